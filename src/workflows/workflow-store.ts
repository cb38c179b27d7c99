import type { InformerEvent, InformerHandler } from '../kube/informer.js'
import { diffEntries } from '../kube/diff.js'
import { HubEvent } from '../kube/watch-hub.js'
import type { KubeObject } from '../kube/resources.js'
import { KeyMoves, type PagingStart } from './key-moves.js'
import { compareKeys, insertSorted, removeSorted, toEntry, type IndexEntry, type SortKey } from './workflow-index.js'
import { narrowByLabels, queryEntries, type StorePage, type StoreQuery } from './store-query.js'

/**
 * The server's watch-fed, indexed copy of every Workflow: entries sorted as upstream sorts lists, per namespace and
 * overall, plus a label index, so a page costs O(page) rather than O(all workflows).
 */
export class WorkflowStore implements InformerHandler {
  readonly #byUid = new Map<string, IndexEntry>()
  readonly #all: IndexEntry[] = []
  readonly #byNs = new Map<string, IndexEntry[]>()
  readonly #labels = new Map<string, Map<string, Set<string>>>()
  #resourceVersion = '0'
  #synced = false
  readonly #listeners = new Set<(event: HubEvent<IndexEntry>) => void>()
  /**
   * Workflows whose newest version in the index came from this server's own write and has not come through the
   * watch yet: the version written, and the entry listeners last saw (none: they have not seen the workflow).
   */
  readonly #unpublished = new Map<string, { rv: number; seen: IndexEntry | undefined }>()
  readonly #moves = new KeyMoves()

  get resourceVersion(): string {
    return this.#resourceVersion
  }

  get size(): number {
    return this.#byUid.size
  }

  /** Where a paging that starts with this page starts (key-moves.ts): pages continue in its order. */
  get pagingStart(): PagingStart {
    return this.#moves.start
  }

  #pending: IndexEntry[] | undefined

  beginSync(): void {
    this.#pending = []
  }

  /** Pages are reduced to entries as they arrive; the parsed objects are not kept. */
  syncPage(objects: KubeObject[]): void {
    for (const o of objects) {
      const e = toEntry(o)
      if (e) this.#pending?.push(e)
    }
  }

  /** The new list replaces the old in one step (built in one pass and sorted once, not inserted one by one). */
  endSync(resourceVersion: string): void {
    const entries = this.#pending ?? []
    this.#pending = undefined
    // What listeners have seen, to diff the new list against: not this server's writes the watch never brought.
    const previous = this.#synced ? new Map(this.published('').map((e) => [e.uid, e])) : undefined
    // What pages were served from, to record moves against: this server's own writes included.
    const before = this.#synced ? new Map(this.#byUid) : undefined
    this.#unpublished.clear()
    this.#synced = true
    this.#byUid.clear()
    this.#all.length = 0
    this.#byNs.clear()
    this.#labels.clear()
    for (const e of entries) {
      if (this.#byUid.has(e.uid)) continue
      this.#byUid.set(e.uid, e)
      this.#all.push(e)
      let ns = this.#byNs.get(e.namespace)
      if (!ns) this.#byNs.set(e.namespace, (ns = []))
      ns.push(e)
      this.#indexLabels(e)
    }
    this.#all.sort(compareKeys)
    for (const ns of this.#byNs.values()) ns.sort(compareKeys)
    if (before) {
      for (const [uid, old] of before) {
        const e = this.#byUid.get(uid)
        if (e && compareKeys(e, old) !== 0) this.#moves.record(uid, old)
      }
    }
    this.#resourceVersion = resourceVersion
    // After a re-list (a 410), what changed while the watch was down is published as the watch would have.
    if (previous) for (const ev of diffEntries(previous, this.#byUid, Number(resourceVersion) || 0)) this.#emit(ev)
  }

  /** A change from the watch: applied, and published to listeners in the watch's order. */
  onEvent(type: InformerEvent, obj: KubeObject, resourceVersion: string): void {
    this.#fromWatch(type, obj)
    this.#resourceVersion = resourceVersion
  }

  /**
   * A write this server just made (read-your-writes): lists and gets see it at once, but listeners get it only when
   * the watch brings it. Published at once, it went out ahead of older changes still on their way through the
   * watch: versions out of order, ids that were not resourceVersions, and resumes (on another replica) with gaps.
   */
  observe(obj: KubeObject): void {
    const e = toEntry(obj)
    if (!e) return
    const old = this.#byUid.get(e.uid)
    if (old && old.resourceVersion >= e.resourceVersion) return
    const pending = this.#unpublished.get(e.uid)
    if (pending) pending.rv = e.resourceVersion
    else this.#unpublished.set(e.uid, { rv: e.resourceVersion, seen: old })
    this.#upsert(e)
  }

  #fromWatch(type: InformerEvent, obj: KubeObject): void {
    const e = toEntry(obj)
    if (!e) return
    const pending = this.#unpublished.get(e.uid)
    if (type === 'DELETED') {
      this.#unpublished.delete(e.uid)
      const removed = this.#remove(e.uid)
      if (pending ? pending.seen : removed) this.#emit(new HubEvent('DELETED', e, e.resourceVersion))
      return
    }
    if (pending) {
      // Listeners get this version now, in the watch's order; the index has it already, or a newer one.
      const seen = pending.seen
      if (e.resourceVersion >= pending.rv) this.#unpublished.delete(e.uid)
      else pending.seen = e
      const current = this.#byUid.get(e.uid)
      if (!current || current.resourceVersion < e.resourceVersion) this.#upsert(e)
      this.#emit(new HubEvent(seen ? 'MODIFIED' : 'ADDED', e, e.resourceVersion, seen))
      return
    }
    const old = this.#byUid.get(e.uid)
    if (old && old.resourceVersion >= e.resourceVersion) return
    this.#upsert(e)
    this.#emit(new HubEvent(old ? 'MODIFIED' : 'ADDED', e, e.resourceVersion, old))
  }

  /** The cached entry of one workflow, by uid. */
  get(uid: string): IndexEntry | undefined {
    return this.#byUid.get(uid)
  }

  /** Every workflow in a namespace ('' = all), for a watch's initial snapshot. */
  entries(namespace: string): readonly IndexEntry[] {
    return namespace ? this.#byNs.get(namespace) ?? [] : this.#all
  }

  /**
   * Every workflow in a namespace ('' = all) as listeners have been told of it, for a watch's first events: this
   * server's own writes the watch has not brought yet are left out, or at the version listeners saw (see observe),
   * so the client is not told of them twice.
   */
  published(namespace: string): readonly IndexEntry[] {
    const all = this.entries(namespace)
    if (!this.#unpublished.size) return all
    const out: IndexEntry[] = []
    for (const e of all) {
      const u = this.#unpublished.get(e.uid)
      if (!u) out.push(e)
      else if (u.seen) out.push(u.seen)
    }
    return out
  }

  #emit(event: HubEvent<IndexEntry>): void {
    for (const l of this.#listeners) l(event)
  }

  /**
   * The newest by creationTimestamp, in a namespace or everywhere ('@latest', spec §2.2); on a tie the first in a
   * Kubernetes list, which is in namespace then name order.
   */
  latest(namespace: string): IndexEntry | undefined {
    let best: IndexEntry | undefined
    for (const e of namespace ? this.#byNs.get(namespace) ?? [] : this.#all) {
      if (!best || e.created > best.created) best = e
      else if (e.created === best.created && (e.namespace < best.namespace || (e.namespace === best.namespace && e.name < best.name))) best = e
    }
    return best
  }

  /** @param moved movedSince(q), when the caller has it already */
  query(q: StoreQuery, moved = this.movedSince(q)): StorePage {
    const scope = q.namespace && !q.namespaceNot ? this.#byNs.get(q.namespace) ?? [] : this.#all
    const source = narrowByLabels(q.labels, this.#labels, this.#byUid, scope.length) ?? scope
    return queryEntries(source, q, moved?.size ? { keys: moved, entries: this.#at(moved) } : undefined)
  }

  /**
   * The keys then of the workflows that moved in the list order since `q`'s paging started (a continued page only);
   * undefined if not known here.
   */
  movedSince(q: Pick<StoreQuery, 'after' | 'pagingStart'>): ReadonlyMap<string, SortKey> | undefined {
    return q.after && q.pagingStart ? this.#moves.since(q.pagingStart) : undefined
  }

  #at(keys: ReadonlyMap<string, SortKey>): IndexEntry[] {
    const out: IndexEntry[] = []
    for (const [uid, k] of keys) {
      const e = this.#byUid.get(uid)
      if (e) out.push({ ...e, group: k.group, time: k.time })
    }
    return out.sort(compareKeys)
  }

  /** Called synchronously with every change, in order (the watch hub and the archiver listen here). */
  subscribe(listener: (event: HubEvent<IndexEntry>) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #upsert(e: IndexEntry): void {
    const old = this.#byUid.get(e.uid)
    if (old) {
      // A stale copy (an event older than a write we already applied) must not win.
      if (old.resourceVersion > e.resourceVersion) return
      this.#remove(e.uid)
      if (compareKeys(old, e) !== 0) this.#moves.record(e.uid, old)
    }
    this.#byUid.set(e.uid, e)
    insertSorted(this.#all, e)
    let ns = this.#byNs.get(e.namespace)
    if (!ns) this.#byNs.set(e.namespace, (ns = []))
    insertSorted(ns, e)
    this.#indexLabels(e)
  }

  #indexLabels(e: IndexEntry): void {
    for (const [k, v] of Object.entries(e.labels)) {
      let byValue = this.#labels.get(k)
      if (!byValue) this.#labels.set(k, (byValue = new Map()))
      let set = byValue.get(v)
      if (!set) byValue.set(v, (set = new Set()))
      set.add(e.uid)
    }
  }

  #remove(uid: string): IndexEntry | undefined {
    const e = this.#byUid.get(uid)
    if (!e) return undefined
    this.#byUid.delete(uid)
    removeSorted(this.#all, e)
    const ns = this.#byNs.get(e.namespace)
    if (ns) {
      removeSorted(ns, e)
      if (!ns.length) this.#byNs.delete(e.namespace)
    }
    for (const [k, v] of Object.entries(e.labels)) {
      const set = this.#labels.get(k)?.get(v)
      set?.delete(uid)
      if (set && !set.size) this.#labels.get(k)?.delete(v)
    }
    return e
  }
}
