import { setTimeout as sleep } from 'node:timers/promises'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import type { ArchiveWriter } from './archive-repository.js'
import { WriteBackoff } from './write-backoff.js'
import type { Item } from './write-item.js'

export interface WriteQueueOptions {
  writer: ArchiveWriter
  /** writes one item (writeItem); false: nothing was written (a newer version is on its way, a hold came between) */
  write: (item: Item) => Promise<boolean>
  /** whether this replica leads: only the leader writes live workflows, every replica writes deletions */
  leading: () => boolean
  /**
   * While writes fail: labels a queued, unlabelled workflow Pending with the finalizer, so it does not wait for its
   * row in this replica's memory alone; undefined when it is not to be held (see Archiver)
   */
  hold: (item: Item) => Promise<void> | undefined
  /** a change after archiving this replica can no longer write (it stepped down): kept for the next leader */
  keep: (item: Item) => void
  log: (msg: string) => void
  concurrency: number
  backoffMs: { initial: number; max: number }
}

/**
 * The archiver's queue: the newest version of each workflow to write, written a few at a time. Postgres or
 * Kubernetes failures keep the item queued and retry with exponential backoff, logged (WriteBackoff: one wait for the
 * queue, one probe after it, whose success resumes full concurrency at once). No worker sleeps holding a slot, so a
 * backlog is written as soon as the database answers again.
 */
export class WriteQueue {
  readonly #o: WriteQueueOptions
  readonly #queue = new Map<string, Item>()
  /** uids being written (or labelled): never two writes of one workflow at once */
  readonly #busy = new Set<string>()
  #running = 0
  readonly #backoff: WriteBackoff
  #stopped = false
  #idle: (() => void)[] = []
  /** queued workflows not labelled yet: while writes fail they are held anyway (see #holdQueued) */
  readonly #unheld = new Set<string>()
  #holding = 0

  constructor(o: WriteQueueOptions) {
    this.#o = o
    this.#backoff = new WriteBackoff({
      initialMs: o.backoffMs.initial, maxMs: o.backoffMs.max, reachable: () => o.writer.reachable(), resume: () => this.#pump(), log: o.log,
    })
  }

  /** Queued or being written: a comparison does not queue it again. */
  has(uid: string): boolean {
    return this.#queue.has(uid) || this.#busy.has(uid)
  }

  enqueue(item: Item): void {
    const old = this.#queue.get(item.entry.uid)
    // The newest version wins; a deletion is kept as such (its last state cannot be labelled any more).
    if (old && old.entry.resourceVersion > item.entry.resourceVersion) return
    let queued: Item = old?.deleted ? { entry: item.entry, deleted: true } : item
    // A newer change to one that finished with the Archived label on still may have no row to update.
    if (old?.finishing && queued.again) queued = { ...queued, finishing: true }
    this.#queue.set(item.entry.uid, queued)
    if (!queued.deleted && !queued.entry.labels[ARCHIVING_STATUS]) this.#unheld.add(item.entry.uid)
    else this.#unheld.delete(item.entry.uid)
    this.#pump()
  }

  /**
   * Forgets the queued live workflows (deletions stay: every replica writes those). Changes after archiving are kept
   * for the next leader as if seen while another led: their comparison is done, and nothing else would find them.
   */
  dropLive(): void {
    for (const [uid, item] of this.#queue) {
      if (item.deleted) continue
      this.#queue.delete(uid)
      if (item.again) this.#o.keep(item)
    }
    this.#unheld.clear()
  }

  stop(): void {
    this.#stopped = true
    this.#backoff.stop()
  }

  /** Resolves when nothing is queued or being written (tests, benchmarks). */
  idle(): Promise<void> {
    if (!this.#queue.size && !this.#running) return Promise.resolve()
    return new Promise((r) => this.#idle.push(r))
  }

  /** Waits for writes in progress (after stop()). */
  async drain(): Promise<void> {
    while (this.#running) await sleep(20)
  }

  #pump(): void {
    if (this.#stopped) return
    if (this.#backoff.failing) this.#holdQueued()
    if (this.#backoff.waiting()) return
    // While writes fail, one probe at a time: a backlog does not all fail again against a database still down.
    const probe = this.#backoff.failing
    const max = probe ? 1 : this.#o.concurrency
    while (this.#running < max) {
      // Iterated in place, not copied: with a start-up backlog of many thousands, a copy per dispatch is quadratic.
      let next: string | undefined
      for (const uid of this.#queue.keys()) {
        if (!this.#busy.has(uid)) {
          next = uid
          break
        }
      }
      if (!next) break
      const item = this.#queue.get(next) as Item
      this.#queue.delete(next)
      this.#unheld.delete(next)
      this.#busy.add(next)
      this.#running++
      void this.#work(item, probe).finally(() => {
        this.#busy.delete(next)
        this.#running--
        if (!this.#queue.size && !this.#running) for (const r of this.#idle.splice(0)) r()
        this.#pump()
      })
    }
  }

  /**
   * While writes fail, the queue waits for the database, in this replica's memory: a workflow in it that is deleted
   * and then every replica restarted before Postgres is back would be lost. Holding it (Pending and our finalizer)
   * takes only Kubernetes, so it is done now for each, a few at a time; its write comes when the database is back.
   */
  #holdQueued(): void {
    while (this.#holding < 4 && this.#o.leading() && this.#unheld.size) {
      const uid = this.#unheld.values().next().value as string
      this.#unheld.delete(uid)
      const item = this.#queue.get(uid)
      if (!item || this.#busy.has(uid)) continue
      const holding = this.#o.hold(item)
      if (!holding) continue
      this.#holding++
      // Busy meanwhile: no write of it races the label patch. Its labelled version comes back through the watch and
      // replaces this one in the queue.
      this.#busy.add(uid)
      void holding.finally(() => {
        this.#holding--
        this.#busy.delete(uid)
        this.#pump()
      })
    }
  }

  /** @param probe dispatched after a wait: its failure doubles the wait, a failure of a write already in flight does not */
  async #work(item: Item, probe: boolean): Promise<void> {
    if (this.#stopped) return
    if (!item.deleted && !this.#o.leading()) {
      // Stepped down since it was queued (a failed write is queued again): kept, as dropLive does.
      if (item.again) this.#o.keep(item)
      return
    }
    try {
      // A probe that wrote nothing (a newer version on its way, a hold in between) says nothing of the database.
      if (!(await this.#o.write(item)) && this.#backoff.failing) return
      this.#backoff.succeeded()
    } catch (err) {
      const wait = this.#backoff.failed(err, probe)
      const e = item.entry
      this.#o.log(`archive: cannot archive workflow ${e.namespace}/${e.name} (${e.uid}): ${(err as Error).message}; retrying in ${wait} ms`)
      if (!this.#queue.has(e.uid)) this.#queue.set(e.uid, item)
    }
  }
}
