import type { KubeClient } from '../kube/client.js'
import type { IndexEntry, WorkflowStore } from '../workflows/index.js'
import { markWorkflow } from './marks.js'
import { finalizersOf, holding, objectOf, released } from './record.js'

const RETRY_MS = 5_000

/**
 * A server started without archiving (no persistence, or persistence.archive false) lets go of the workflows an
 * archiving server held for the archive (our finalizer: unfinished ones, and finished ones Pending): nothing will write
 * their rows now, and a held workflow cannot be deleted (kubectl delete and the controller's TTL would wait for
 * good). Only those of this instance (instanceID) found held once the cache is synced, each until it is let go or
 * gone, and again every `rescanMs`; their label stays Pending, so a server that archives again takes them. Another
 * replica still archiving (a rolling change of the configmap) may hold a workflow again, and is left to it until the
 * next pass: this one does not fight it.
 * @returns a function that stops it
 */
export function releaseHeld(o: {
  store: WorkflowStore; kube: KubeClient; synced: Promise<void>; instanceId: string; log: (msg: string) => void
  /** how often to look again (a few lease durations) */
  rescanMs: number
}): () => void {
  const pending = new Set<string>()
  let stopped = false
  const release = (e: IndexEntry) => {
    if (!holding(e, o.instanceId)) return void pending.delete(e.uid)
    const obj = objectOf(e)
    // At its version: undefined when a newer one is on its way through the cache (released in turn), or it is gone.
    markWorkflow(o.kube, e.namespace, e.name, String(e.resourceVersion), { finalizers: released(finalizersOf(obj.metadata)) }).then((done) => {
      if (done) o.log(`archive: archiving is off: let go of workflow ${e.namespace}/${e.name}, held for the archive by an earlier server`)
    }, (err: unknown) => {
      o.log(`archive: cannot let go of workflow ${e.namespace}/${e.name}, retrying in ${RETRY_MS / 1000} s: ${(err as Error).message}`)
      setTimeout(() => {
        const now = o.store.get(e.uid)
        if (!stopped && now && pending.has(e.uid)) release(now)
      }, RETRY_MS).unref()
    })
  }
  const unsubscribe = o.store.subscribe((ev) => {
    if (!pending.has(ev.entry.uid)) return
    if (ev.type === 'DELETED') pending.delete(ev.entry.uid)
    else release(ev.entry)
  })
  const scan = () => {
    if (stopped) return
    for (const e of o.store.entries('')) {
      if (!holding(e, o.instanceId) || pending.has(e.uid)) continue
      pending.add(e.uid)
      release(e)
    }
  }
  void o.synced.then(scan)
  // And again every few leases: what an archiving replica still running holds meanwhile (a rolling change) is let go
  // once it is gone, not only at this server's next start; while it runs, each is let go once per period, not fought.
  const rescan = setInterval(() => void o.synced.then(scan), o.rescanMs)
  rescan.unref()
  return () => {
    stopped = true
    clearInterval(rescan)
    unsubscribe()
  }
}
