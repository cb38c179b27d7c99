import type { KubeClient } from '../kube/client.js'
import { isManagedBy } from '../lib/instance-id.js'
import { ARCHIVING_STATUS, ARCHIVE_FINALIZER } from '../lib/workflow-labels.js'
import type { IndexEntry, WorkflowStore } from '../workflows/index.js'
import { markWorkflow } from './marks.js'
import { finalizersOf, finishedEntry, objectOf, released } from './record.js'

/** Patches at a time: a burst of new workflows is held a few at once. */
const CONCURRENCY = 4

/**
 * The leader holds every unfinished workflow it is to archive with our finalizer (no label) from the time it first
 * sees it: one that then finishes *and* is deleted while no server runs, or while every watch is down until a 410,
 * waits in Kubernetes, marked for deletion, until a leader writes its row (the Archiver labels it Pending, keeping
 * the hold, then Archived, letting it go). Without it such a workflow was gone before any server saw it finished.
 * It lets go of an unfinished one deleted before it finishes (upstream archives only finished workflows) or no longer
 * to be archived (archiving off, selector, `--archive-hold-unfinished=false`), and of a finished one the Archiver will
 * not take (`archives`), unless it is labelled Pending (the Archiver lets go of those itself). A workflow labelled
 * Archived or Persisted while it runs (a manifest copied from the archive) is not held: nothing would let it go.
 */
export class RunningHold {
  /** uids to look at, in the order they came; each is read from the cache when its turn comes */
  readonly #waiting = new Set<string>()
  #running = 0
  #active = false

  /**
   * @param wanted whether a workflow of this instance is to be archived at all (archiving on, selector)
   * @param archives whether the Archiver will write and label this finished workflow (it lets go of it then)
   * @param enabled whether unfinished workflows are held (`--archive-hold-unfinished`)
   */
  constructor(private readonly o: {
    kube: KubeClient; store: WorkflowStore; instanceId: string; enabled: boolean
    wanted: (e: IndexEntry) => boolean; archives: (e: IndexEntry) => boolean; log: (msg: string) => void
  }) {}

  /** Only the leader holds: it starts and stops with the leadership (and needs only the cache, not the database). */
  setActive(active: boolean): void {
    this.#active = active
    if (!active) this.#waiting.clear()
  }

  /** Whether an unfinished workflow is to be held (the Archiver lets go of nothing this wants). */
  wants(e: IndexEntry): boolean {
    const status = e.labels[ARCHIVING_STATUS]
    return this.o.enabled && !finishedEntry(e) && !e.deleting && status !== 'Archived' && status !== 'Persisted'
      && isManagedBy(e.labels, this.o.instanceId) && this.o.wanted(e)
  }

  /** Looks at a cached version (an event, a scan): queued when it is to be held or let go. */
  check(e: IndexEntry): void {
    if (!this.#active || !this.#needsPatch(e)) return
    this.#waiting.add(e.uid)
    this.#pump()
  }

  #needsPatch(e: IndexEntry): boolean {
    // Another instance's workflows are its server's to hold and let go.
    if (!isManagedBy(e.labels, this.o.instanceId)) return false
    if (finishedEntry(e)) return e.archiveHold && e.labels[ARCHIVING_STATUS] !== 'Pending' && !this.o.archives(e)
    return e.archiveHold !== this.wants(e)
  }

  #pump(): void {
    while (this.#running < CONCURRENCY && this.#waiting.size && this.#active) {
      const uid = this.#waiting.values().next().value as string
      this.#waiting.delete(uid)
      // The newest cached version: held, let go or gone meanwhile, nothing is left to do.
      const e = this.o.store.get(uid)
      if (!e || !this.#needsPatch(e)) continue
      const finalizers = finalizersOf(objectOf(e).metadata)
      const hold = !e.archiveHold
      this.#running++
      // At its version: a newer one (the controller's) conflicts, and comes through the cache to be looked at again.
      markWorkflow(this.o.kube, e.namespace, e.name, String(e.resourceVersion), { finalizers: hold ? [...finalizers, ARCHIVE_FINALIZER] : released(finalizers) })
        .catch((err: unknown) => this.o.log(`archive: cannot ${hold ? 'hold' : 'let go of'} workflow ${e.namespace}/${e.name}: ${(err as Error).message}`))
        .finally(() => {
          this.#running--
          this.#pump()
        })
        .catch((err: unknown) => this.o.log(`archive: ${(err as Error).message}`))
    }
  }
}
