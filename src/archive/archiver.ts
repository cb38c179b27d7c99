import type { KubeClient } from '../kube/client.js'
import type { HubEvent } from '../kube/hub-event.js'
import { isManagedBy } from '../lib/instance-id.js'
import { matchesLabels, type Requirement } from '../lib/label-selector.js'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import type { IndexEntry, OffloadedNodeSource, WorkflowStore } from '../workflows/index.js'
import type { ArchiveWriter } from './archive-repository.js'
import { FollowerHold } from './follower-hold.js'
import { markPending } from './marks.js'
import { RecentChanges } from './recent-changes.js'
import { finishedEntry, finishedPhase, held, objectOf } from './record.js'
import { RowVersions, type Version } from './row-versions.js'
import { RunningHold } from './running-hold.js'
import { writeItem, type Item } from './write-item.js'
import { WriteQueue } from './write-queue.js'

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
 * Writing, and retrying what fails, is the WriteQueue's.
 */
export class Archiver {
  readonly #o: ArchiverOptions
  readonly #queue: WriteQueue
  #leader = false
  #stopped = false
  #synced = false
  #cacheSynced = false
  #unsubscribe: (() => void) | undefined
  #rescan: NodeJS.Timeout | undefined
  #selector: Requirement[]
  #enabled = true
  /** uid → the version this replica last wrote; the echoes of its own label patches are not archived again */
  readonly #written = new Map<string, number>()
  /** changes to archived workflows seen while another replica led, written by this one once it leads */
  readonly #recent: RecentChanges
  /**
   * The archived workflows cached at start-up, until a leader's comparison with their rows (RowVersions) has covered
   * them: one deleted before that may have changed while no server ran, so its last state is written (or kept by a
   * follower for the next leader). Emptied by this replica's first complete comparison.
   */
  readonly #uncompared = new Set<string>()
  readonly #rows: RowVersions
  readonly #runningHold: RunningHold
  readonly #followerHold: FollowerHold
  archived = 0

  constructor(opts: ArchiverOptions) {
    this.#o = opts
    this.#selector = opts.selector
    this.#recent = new RecentChanges(opts.changesKeptMs ?? 60_000)
    this.#rows = new RowVersions(opts.writer, opts.log)
    const writing = {
      store: opts.store, writer: opts.writer, kube: opts.kube, instanceId: opts.instanceId, offloaded: opts.offloaded, log: opts.log,
      eligible: (e: IndexEntry, archived?: boolean) => this.#eligible(e, archived), holdWanted: (e: IndexEntry) => this.#runningHold.wants(e),
      written: this.#written, wrote: () => void this.archived++,
    }
    this.#queue = new WriteQueue({
      writer: opts.writer, write: (item) => writeItem(writing, item), leading: () => this.#leader, hold: (item) => this.#holdPending(item),
      keep: (item) => this.#recent.add(item.entry, item.finishing), log: opts.log,
      concurrency: opts.concurrency ?? 8, backoffMs: opts.backoffMs ?? { initial: 500, max: 10_000 },
    })
    this.#runningHold = new RunningHold({
      kube: opts.kube, store: opts.store, instanceId: opts.instanceId, enabled: opts.holdUnfinished ?? true, log: opts.log,
      wanted: (e) => this.#enabled && isManagedBy(e.labels, opts.instanceId) && matchesLabels(this.#selector, e.labels),
      archives: (e) => this.#eligible(e) && finishedPhase(objectOf(e)),
    })
    this.#followerHold = new FollowerHold({ kube: opts.kube, store: opts.store, unheld: this.#followerMayHold, log: opts.log })
  }

  /**
   * Listens to the cache; archiving starts once `synced` (the cache, and the database's migrations) and this replica
   * leads. A replica that does not lead holds finished workflows once the cache alone is synced (`cache`): holding
   * takes only Kubernetes.
   */
  start(synced: Promise<void>, cache: Promise<void> = synced): void {
    this.#unsubscribe = this.#o.store.subscribe((ev) => this.#onEvent(ev))
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

  #onEvent(ev: HubEvent<IndexEntry>): void {
    if (ev.type === 'DELETED' || ev.entry.labels[ARCHIVING_STATUS] === 'Archived') this.#written.delete(ev.entry.uid)
    // Not the labelling itself (Pending before): a user's or the controller's change to an archived workflow.
    const changed = ev.type === 'MODIFIED' && ev.prev?.labels[ARCHIVING_STATUS] === 'Archived' && this.#eligible(ev.entry, true)
    // Finished just now with the label on (a copied manifest): its row may not exist yet.
    const finishing = changed && ev.prev !== undefined && !finishedEntry(ev.prev)
    if (ev.type === 'DELETED') {
      // Archived, and not compared with its row yet: it may have changed while no server ran (see #uncompared).
      const unseen = this.#uncompared.delete(ev.entry.uid) && this.#eligible(ev.entry, true)
      if (this.#eligible(ev.entry)) this.#queue.enqueue({ entry: ev.entry, deleted: true })
      else if (unseen && this.#leader) this.#queue.enqueue({ entry: ev.entry, deleted: true, again: true })
      else if (!this.#leader && (unseen || this.#recent.has(ev.entry.uid))) this.#recent.add(ev.entry)
    } else if (this.#leader) {
      this.#runningHold.check(ev.entry)
      if (this.#eligible(ev.entry) || held(ev.entry, this.#o.instanceId)) this.#queue.enqueue({ entry: ev.entry, deleted: false })
      else if (changed) this.#queue.enqueue({ entry: ev.entry, deleted: false, again: true, finishing })
    } else if (changed) this.#recent.add(ev.entry, finishing)
    else if (this.#followerMayHold(ev.entry)) this.#followerHold.add(ev.entry)
  }

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

  /** A queued finished workflow labelled Pending with the finalizer while writes fail (WriteQueue.hold). */
  #holdPending(item: Item): Promise<void> | undefined {
    if (item.deleted || item.again) return undefined
    const obj = objectOf(item.entry)
    if (!finishedPhase(obj) || !this.#eligible(item.entry)) return undefined
    const e = item.entry
    return markPending(this.#o.kube, e, obj).then(() => undefined,
      (err: unknown) => this.#o.log(`archive: cannot label workflow ${e.namespace}/${e.name} Pending: ${(err as Error).message}`))
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
    if (!s.enabled) this.#queue.dropLive()
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
      this.#queue.dropLive()
      this.followerScan()
    }
  }

  stop(): void {
    this.#stopped = true
    this.#runningHold.setActive(false)
    this.#queue.stop()
    this.#unsubscribe?.()
    clearInterval(this.#rescan)
  }

  /** Resolves when nothing is queued or being written (tests, benchmarks). */
  idle(): Promise<void> {
    return this.#queue.idle()
  }

  /** Waits for writes in progress (after stop()). */
  drain(): Promise<void> {
    return this.#queue.drain()
  }

  #scan(): void {
    // Changes to archived workflows seen while another replica led, which it may have died before writing.
    for (const { entry: seen, finishing } of this.#recent.take()) {
      const live = this.#o.store.get(seen.uid)
      const entry = live && live.resourceVersion > seen.resourceVersion ? live : seen
      // Gone meanwhile: its last state, which any replica writes (it survives a step-down).
      if (this.#eligible(entry, true)) this.#queue.enqueue({ entry, deleted: !live, again: true, finishing })
    }
    const archived: Version[] = []
    // Leading with the cache synced (the scan runs only then): the holds of unfinished workflows are looked at here.
    this.#runningHold.setActive(true)
    for (const e of this.#o.store.entries('')) {
      this.#runningHold.check(e)
      if (this.#eligible(e) || held(e, this.#o.instanceId)) this.#queue.enqueue({ entry: e, deleted: false })
      else if (this.#eligible(e, true)) archived.push({ uid: e.uid, resourceVersion: e.resourceVersion })
    }
    // Changes to archived workflows that no replica saw (made while no server ran): rows older than the live object.
    // One being written (its Archived label just patched, the row's version not raised yet) is not written twice.
    void this.#rows.compare(archived, (uid) => {
      const live = this.#o.store.get(uid)
      if (!this.#leader || !live || this.#queue.has(uid) || !this.#eligible(live, true)) return
      if (finishedPhase(objectOf(live))) this.#queue.enqueue({ entry: live, deleted: false, again: true })
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
}
