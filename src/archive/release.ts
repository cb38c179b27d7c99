import type { KubeClient } from '../kube/client.js'
import { Workflows } from '../kube/resources.js'
import type { IndexEntry } from '../workflows/workflow-index.js'
import type { WorkflowStore } from '../workflows/workflow-store.js'
import { finalizersOf, held, released, type Obj } from './record.js'

const RETRY_MS = 5_000

/**
 * A server started without archiving (no persistence, or persistence.archive false) lets go of the workflows an
 * archiving server held for the archive while Postgres was down (Pending with our finalizer): nothing will write
 * their rows now, and a held workflow cannot be deleted (kubectl delete and the controller's TTL would wait for
 * good). Only those of this instance (instanceID) found held once the cache is synced, each until it is let go or
 * gone; their label stays Pending, so a server that archives again takes them. Another replica still archiving (a
 * rolling change of the configmap) may hold a workflow again, and is left to it: this one does not fight it.
 * @returns a function that stops it
 */
export function releaseHeld(o: { store: WorkflowStore; kube: KubeClient; synced: Promise<void>; instanceId: string; log: (msg: string) => void }): () => void {
  const pending = new Set<string>()
  let stopped = false
  const release = (e: IndexEntry) => {
    if (!held(e, o.instanceId)) return void pending.delete(e.uid)
    const obj = JSON.parse(e.json.toString('utf8')) as Obj
    // At its version: a conflict means a newer one is on its way through the cache, and is released in turn.
    const metadata = { resourceVersion: String(e.resourceVersion), finalizers: released(finalizersOf(obj.metadata)) }
    o.kube.patch(Workflows, e.namespace, e.name, { metadata }).then(() => {
      o.log(`archive: archiving is off: let go of workflow ${e.namespace}/${e.name}, held for the archive by an earlier server`)
    }, (err: unknown) => {
      const code = (err as { code?: number }).code
      if (code === 5) return void pending.delete(e.uid) // gone
      if (code === 6 || code === 10) return
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
  void o.synced.then(() => {
    if (stopped) return
    for (const e of o.store.entries('')) {
      if (!held(e, o.instanceId)) continue
      pending.add(e.uid)
      release(e)
    }
  })
  return () => {
    stopped = true
    unsubscribe()
  }
}
