import { setTimeout as sleep } from 'node:timers/promises'
import type { KubeClient } from '../kube/client.js'
import { isManagedBy } from '../lib/instance-id.js'
import { matchesLabels, type Requirement } from '../lib/label-selector.js'
import type { OffloadedNodeSource } from '../workflows/hydrate.js'
import type { IndexEntry } from '../workflows/workflow-index.js'
import type { WorkflowStore } from '../workflows/workflow-store.js'
import type { ArchiveWriter } from './archive-repository.js'
import { FollowerHold } from './follower-hold.js'
import { markPending } from './marks.js'
import { RecentChanges } from './recent-changes.js'
import { finishedEntry, finishedPhase, held, objectOf } from './record.js'
import { RowVersions, type Version } from './row-versions.js'
import { RunningHold } from './running-hold.js'
import { ARCHIVING_STATUS } from './types.js'
import { WriteBackoff } from './write-backoff.js'
import { writeItem, type Item, type WriteContext } from './write-item.js'

export interface ArchiverOptions {
  store: WorkflowStore
  writer: ArchiveWriter
  /** the server's own client: it labels live workflows Pending and Archived */
  kube: KubeClient
  instanceId: string
  /** persistence.archiveLabelSelector: only matching workflows are archived (default all) */
  selector: Requirement[]
  /** where the controller offloads node status, to archive workflows whole */
  offloaded?: OffloadedNodeSource
  log: (msg: string) => void
  concurrency?: number
  backoffMs?: { initial: number; max: number }
  /** how often the leader re-scans the cache for finished workflows not yet Archived */
  rescanMs?: number
  /** whether the leader election works at all (LeaseElector.working); a replica that does not lead holds only then */
  electionWorks?: () => boolean
  /** how long a replica that does not lead keeps the changes to archived workflows it sees (a few leases) */
  changesKeptMs?: number
  /** whether the leader holds unfinished workflows for the archive (RunningHold; default true) */
  holdUnfinished?: boolean
}

/**
 * Writes finished workflows to the archive (spec §6.2, lessons §2) from the server's watch-fed cache:
 * - the leader (one replica, LeaseElector) archives every finished workflow not yet labelled Archived: label
 *   Pending, upsert, label Archived with the version it archived (a newer version conflicts and is redone);
 * - it scans the whole cache when it becomes leader and periodically, so workflows that finished while no server
 *   ran, or whose archiving failed, are archived at start-up and never given up on;
 * - the Pending label comes with our finalizer (ARCHIVE_FINALIZER), the Archived label without it: a workflow
 *   deleted while its row cannot be written (Postgres down, every replica restarting) stays in Kubernetes, marked
 *   for deletion, until it is written; a finalizer on every workflow from its creation would make every deletion
 *   wait whenever no server runs, so only those waiting for the archive hold one. Held workflows that are no longer
 *   to be archived (archiving turned off, selector changed, running again) are let go;
 * - a replica that does not lead holds a finished workflow nobody has labelled yet at once (FollowerHold): one
 *   finishing while no replica leads (a lease duration after a leader died) waits for the next leader too;
 * - a workflow deleted before it was Pending (or forced past the finalizer) is archived from the DELETED event's
 *   last state by every replica, leader or not: the row write is idempotent (by uid, guarded by resourceVersion),
 *   so a dying leader cannot lose it.
 * Postgres or Kubernetes failures keep the item queued and retry with exponential backoff, logged (WriteBackoff: one
 * wait for the archiver, one probe after it, whose success resumes full concurrency at once). No worker sleeps
 * holding a slot, so a backlog is written as soon as the database answers again.
 */
export class Archiver {
  readonly #o: ArchiverOptions
  readonly #queue = new Map<string, Item>()
  readonly #busy = new Set<string>()
  #leader = false
  #running = 0
  readonly #backoff: WriteBackoff
  #stopped = false
  #unsubscribe: (() => void) | undefined
  #rescan: NodeJS.Timeout | undefined
  #idle: (() => void)[] = []
  /** queued workflows not labelled yet: while writes fail they are held anyway (see #holdQueued) */
  readonly #unheld = new Set<string>()
  #holding = 0
  /** uid → the version this replica last wrote; the echoes of its own label patches are not archived again */
  readonly #written = new Map<string, number>()
  /** changes to archived workflows seen while another replica led, written by this one once it leads */
  readonly #recent: RecentChanges
  readonly #rows: RowVersions
  readonly #writing: WriteContext
  readonly #runningHold: RunningHold
  archived = 0

  constructor(opts: ArchiverOptions) {
    this.#o = opts
    this.#selector = opts.selector
    this.#recent = new RecentChanges(opts.changesKeptMs ?? 60_000)
    this.#rows = new RowVersions(opts.writer, opts.log)
    this.#writing = {
      store: opts.store, writer: opts.writer, kube: opts.kube, instanceId: opts.instanceId, offloaded: opts.offloaded, log: opts.log,
      eligible: (e, archived) => this.#eligible(e, archived), holdWanted: (e) => this.#runningHold.wants(e), written: this.#written,
      wrote: () => void this.archived++,
    }
    this.#runningHold = new RunningHold({
      kube: opts.kube, store: opts.store, instanceId: opts.instanceId, enabled: opts.holdUnfinished ?? true, log: opts.log,
      wanted: (e) => this.#enabled && isManagedBy(e.labels, opts.instanceId) && matchesLabels(this.#selector, e.labels),
      archives: (e) => this.#eligible(e) && finishedPhase(objectOf(e)),
    })
    this.#followerHold = new FollowerHold({ kube: opts.kube, store: opts.store, unheld: this.#followerMayHold, log: opts.log })
    const { initial, max } = opts.backoffMs ?? { initial: 500, max: 10_000 }
    this.#backoff = new WriteBackoff({ initialMs: initial, maxMs: max, reachable: () => opts.writer.reachable(), resume: () => this.#pump(), log: opts.log })
  }

  /**
   * Listens to the cache; archiving starts once `synced` (the cache, and the database's migrations) and this replica
   * leads. A replica that does not lead holds finished workflows once the cache alone is synced (`cache`): holding
   * takes only Kubernetes.
   */
  start(synced: Promise<void>, cache: Promise<void> = synced): void {
    this.#unsubscribe = this.#o.store.subscribe((ev) => {
      if (ev.type === 'DELETED' || ev.entry.labels[ARCHIVING_STATUS] === 'Archived') this.#written.delete(ev.entry.uid)
      // Not the labelling itself (Pending before): a user's or the controller's change to an archived workflow.
      const changed = ev.type === 'MODIFIED' && ev.prev?.labels[ARCHIVING_STATUS] === 'Archived' && this.#eligible(ev.entry, true)
      // Finished just now with the label on (a copied manifest): its row may not exist yet.
      const finishing = changed && ev.prev !== undefined && !finishedEntry(ev.prev)
      if (ev.type === 'DELETED') {
        // Archived, and not compared with its row yet: it may have changed while no server ran (see #uncompared).
        const unseen = this.#uncompared.delete(ev.entry.uid) && this.#eligible(ev.entry, true)
        if (this.#eligible(ev.entry)) this.#enqueue({ entry: ev.entry, deleted: true })
        else if (unseen && this.#leader) this.#enqueue({ entry: ev.entry, deleted: true, again: true })
        else if (!this.#leader && (unseen || this.#recent.has(ev.entry.uid))) this.#recent.add(ev.entry)
      } else if (this.#leader) {
        this.#runningHold.check(ev.entry)
        if (this.#eligible(ev.entry) || held(ev.entry, this.#o.instanceId)) this.#enqueue({ entry: ev.entry, deleted: false })
        else if (changed) this.#enqueue({ entry: ev.entry, deleted: false, again: true, finishing })
      } else if (changed) this.#recent.add(ev.entry, finishing)
      else if (this.#followerMayHold(ev.entry)) this.#followerHold.add(ev.entry)
    })
    void synced.then(() => {
      this.#synced = true
      if (this.#leader) this.#scan()
    })
    void cache.then(() => {
      this.#cacheSynced = true
      for (const e of this.#o.store.entries('')) if (this.#eligible(e, true)) this.#uncompared.add(e.uid)
      this.followerScan()
      this.#holdUnfinished()
    })
    this.#rescan = setInterval(() => this.#leader && this.#synced && this.#scan(), this.#o.rescanMs ?? 60_000)
  }

  #synced = false
  /**
   * The archived workflows cached at start-up, until a leader's comparison with their rows (RowVersions) has covered
   * them: one deleted before that may have changed while no server ran, so its last state is written (or kept by a
   * follower for the next leader). Emptied by this replica's first complete comparison.
   */
  readonly #uncompared = new Set<string>()
  #selector: Requirement[]
  #enabled = true
  readonly #followerHold: FollowerHold
  #cacheSynced = false
  /**
   * Only while the election works (this replica reads and writes the Lease): where none can (RBAC without leases),
   * no replica will ever lead, and a hold would never be let go.
   */
  readonly #followerMayHold = (e: IndexEntry) => !this.#leader && !this.#stopped && this.#cacheSynced && (this.#o.electionWorks?.() ?? true)
    && this.#eligible(e) && !e.labels[ARCHIVING_STATUS]

  /**
   * The leader's holds of unfinished workflows (RunningHold) start once the cache is synced: they take only
   * Kubernetes, so a deletion does not wait for a database that is down at start-up.
   */
  #holdUnfinished(): void {
    if (!this.#leader || !this.#cacheSynced || this.#stopped) return
    this.#runningHold.setActive(true)
    for (const e of this.#o.store.entries('')) this.#runningHold.check(e)
  }

  /** Holds what finished before this replica could follow: at start-up, as it steps down, once the election works. */
  followerScan(): void {
    for (const e of this.#o.store.entries('')) if (this.#followerMayHold(e)) this.#followerHold.add(e)
  }

  /**
   * Follows the configmap (see settings-reload.ts): which workflows are archived, and whether any are. Finished
   * workflows the new settings take in are archived at once; held ones they leave out are let go.
   */
  configure(s: { enabled: boolean; selector: Requirement[] }): void {
    this.#selector = s.selector
    this.#enabled = s.enabled
    if (!s.enabled) this.#dropLive()
    // The scan looks at the holds too; before it can run, only they are looked at.
    if (this.#leader && this.#synced) this.#scan()
    else this.#holdUnfinished()
  }

  setLeader(leader: boolean): void {
    this.#leader = leader
    if (leader && this.#synced) this.#scan()
    else this.#holdUnfinished()
    if (!leader) {
      this.#runningHold.setActive(false)
      this.#dropLive()
      this.followerScan()
    }
  }

  /**
   * Forgets the queued live workflows (deletions stay: every replica writes those). Changes after archiving are kept
   * for the next leader as if seen while another led: their comparison is done, and nothing else would find them.
   */
  #dropLive(): void {
    for (const [uid, item] of this.#queue) {
      if (item.deleted) continue
      this.#queue.delete(uid)
      if (item.again) this.#recent.add(item.entry, item.finishing)
    }
    this.#unheld.clear()
  }

  stop(): void {
    this.#stopped = true
    this.#runningHold.setActive(false)
    this.#backoff.stop()
    this.#unsubscribe?.()
    clearInterval(this.#rescan)
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

  get queued(): number {
    return this.#queue.size + this.#running
  }

  #scan(): void {
    // Changes to archived workflows seen while another replica led, which it may have died before writing.
    for (const { entry: seen, finishing } of this.#recent.take()) {
      const live = this.#o.store.get(seen.uid)
      const entry = live && live.resourceVersion > seen.resourceVersion ? live : seen
      // Gone meanwhile: its last state, which any replica writes (it survives a step-down).
      if (this.#eligible(entry, true)) this.#enqueue({ entry, deleted: !live, again: true, finishing })
    }
    const archived: Version[] = []
    // Leading with the cache synced (the scan runs only then): the holds of unfinished workflows are looked at here.
    this.#runningHold.setActive(true)
    for (const e of this.#o.store.entries('')) {
      this.#runningHold.check(e)
      if (this.#eligible(e) || held(e, this.#o.instanceId)) this.#enqueue({ entry: e, deleted: false })
      else if (this.#eligible(e, true)) archived.push({ uid: e.uid, resourceVersion: e.resourceVersion })
    }
    // Changes to archived workflows that no replica saw (made while no server ran): rows older than the live object.
    // One being written (its Archived label just patched, the row's version not raised yet) is not written twice.
    void this.#rows.compare(archived, (uid) => {
      const live = this.#o.store.get(uid)
      if (!this.#leader || !live || this.#busy.has(uid) || this.#queue.has(uid) || !this.#eligible(live, true)) return
      if (finishedPhase(objectOf(live))) this.#enqueue({ entry: live, deleted: false, again: true })
    }, () => this.#leader && !this.#stopped).then((all) => {
      if (all) this.#uncompared.clear()
    })
  }

  /**
   * Cheap checks on the cached entry; the phase is read from the object only when these pass.
   * @param archived whether it is to be labelled Archived already (a change after archiving) rather than not yet
   */
  #eligible(e: IndexEntry, archived = false): boolean {
    const status = e.labels[ARCHIVING_STATUS]
    // Finished by its finishedAt, or by the controller's completed label (upstream archives on the phase, so a
    // workflow a driver left without finishedAt is archived too)
    const finished = finishedEntry(e)
    return this.#enabled && finished && (archived ? status === 'Archived' : status !== 'Archived' && status !== 'Persisted')
      && isManagedBy(e.labels, this.#o.instanceId) && matchesLabels(this.#selector, e.labels)
  }

  #enqueue(item: Item): void {
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

  #pump(): void {
    if (this.#stopped) return
    if (this.#backoff.failing) this.#holdQueued()
    if (this.#backoff.waiting()) return
    // While writes fail, one probe at a time: a backlog does not all fail again against a database still down.
    const probe = this.#backoff.failing
    const max = probe ? 1 : this.#o.concurrency ?? 8
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
    while (this.#holding < 4 && this.#leader && this.#unheld.size) {
      const uid = this.#unheld.values().next().value as string
      this.#unheld.delete(uid)
      const item = this.#queue.get(uid)
      if (!item || item.deleted || item.again || this.#busy.has(uid)) continue
      const obj = objectOf(item.entry)
      if (!finishedPhase(obj) || !this.#eligible(item.entry)) continue
      this.#holding++
      // Busy meanwhile: no write of it races the label patch. Its labelled version comes back through the watch and
      // replaces this one in the queue.
      this.#busy.add(uid)
      void markPending(this.#o.kube, item.entry, obj)
        .catch((err: unknown) => this.#o.log(`archive: cannot label workflow ${item.entry.namespace}/${item.entry.name} Pending: ${(err as Error).message}`))
        .finally(() => {
          this.#holding--
          this.#busy.delete(uid)
          this.#pump()
        })
    }
  }

  /** @param probe dispatched after a wait: its failure doubles the wait, a failure of a write already in flight does not */
  async #work(item: Item, probe: boolean): Promise<void> {
    if (this.#stopped) return
    if (!item.deleted && !this.#leader) {
      // Stepped down since it was queued (a failed write is queued again): kept, as #dropLive does.
      if (item.again) this.#recent.add(item.entry, item.finishing)
      return
    }
    try {
      // A probe that wrote nothing (a newer version on its way, a hold in between) says nothing of the database.
      if (!(await writeItem(this.#writing, item)) && this.#backoff.failing) return
      this.#backoff.succeeded()
    } catch (err) {
      const wait = this.#backoff.failed(err, probe)
      const e = item.entry
      this.#o.log(`archive: cannot archive workflow ${e.namespace}/${e.name} (${e.uid}): ${(err as Error).message}; retrying in ${wait} ms`)
      if (!this.#queue.has(e.uid)) this.#queue.set(e.uid, item)
    }
  }
}
