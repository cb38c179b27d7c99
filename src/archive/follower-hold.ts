import type { KubeClient } from '../kube/client.js'
import type { IndexEntry, WorkflowStore } from '../workflows/index.js'
import { markPending } from './marks.js'
import { finishedPhase, objectOf } from './record.js'

/** Holds at a time: a burst of finished workflows is labelled a few at once, not all at once. */
const CONCURRENCY = 4

/**
 * What a replica that does not lead does with a finished workflow nobody has labelled yet: it holds it (Pending,
 * our finalizer) at once, as the leader would before writing it. Deleted afterwards, it then waits in Kubernetes for
 * a leader to write its row. Without this, a workflow finishing while no replica leads (a leader killed: the others
 * wait a lease duration before taking over) and deleted at once lived only in the followers' memory, from its
 * DELETED event: lost if Postgres was down and they died too. With a live leader the two race to label it; the
 * resourceVersion guard lets one patch through and the leader archives the labelled version either way.
 */
export class FollowerHold {
  /** uids to hold, in the order they came; each is read from the cache when its turn comes */
  readonly #waiting = new Set<string>()
  #running = 0

  /** @param unheld whether a cached version is still this follower's to hold (finished, eligible, unlabelled, not leading) */
  constructor(private readonly o: { kube: KubeClient; store: WorkflowStore; unheld: (e: IndexEntry) => boolean; log: (msg: string) => void }) {}

  add(e: IndexEntry): void {
    this.#waiting.add(e.uid)
    this.#pump()
  }

  #pump(): void {
    while (this.#running < CONCURRENCY && this.#waiting.size) {
      const uid = this.#waiting.values().next().value as string
      this.#waiting.delete(uid)
      // The newest cached version: labelled or gone meanwhile, nothing is left to do.
      const e = this.o.store.get(uid)
      if (!e || !this.o.unheld(e)) continue
      const obj = objectOf(e)
      if (!finishedPhase(obj) || obj.metadata.deletionTimestamp !== undefined) continue
      this.#running++
      markPending(this.o.kube, e, obj)
        .catch((err: unknown) => this.o.log(`archive: cannot label workflow ${e.namespace}/${e.name} Pending: ${(err as Error).message}`))
        .finally(() => {
          this.#running--
          this.#pump()
        })
        .catch((err: unknown) => this.o.log(`archive: ${(err as Error).message}`))
    }
  }
}
