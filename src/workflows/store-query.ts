import { matchesLabels, type Requirement } from '../lib/label-selector.js'
import type { PagingStart } from './key-moves.js'
import { compareKeys, firstAfter, type IndexEntry, type SortKey } from './workflow-index.js'

/** A list request against the store (and the archive), parsed (list-query.ts). */
export interface StoreQuery {
  /** '' = every namespace */
  namespace: string
  /** with `namespace`: every namespace except this one (fieldSelector metadata.namespace!=) */
  namespaceNot?: boolean
  labels: Requirement[]
  name?: { op: 'Exact' | 'Contains' | 'Prefix' | 'NotEquals'; value: string }
  createdAfter?: number
  finishedBefore?: number
  startedAfter?: number
  startedBefore?: number
  /** keyset position to continue after */
  after?: SortKey
  /** with `after`: the paging's first page, whose order it keeps (key-moves.ts) */
  pagingStart?: PagingStart
  /** legacy numeric continue: matches to skip */
  offset?: number
  limit: number
  countRemaining?: boolean
}

export interface StorePage {
  items: IndexEntry[]
  more: boolean
  remaining?: number
}

/** One list item, live or archived, in the common order, as wire JSON. */
export interface PageItem extends SortKey {
  readonly json: Buffer | string
  /** a live workflow whose nodes the controller compressed or offloaded (IndexEntry); archived rows are whole */
  readonly dehydrated?: boolean
}

/** A page of live and archived workflows as one sequence. */
export interface MergedPage {
  items: PageItem[]
  more: boolean
  remaining?: number
}

/**
 * The archive's side of listing (implemented by src/archive/unified.ts): pages over the cache and the archive as
 * one keyset-paged sequence. Declared here so listing depends on the shape, not on the archive.
 */
export interface ArchivedListing {
  page(q: StoreQuery): Promise<MergedPage>
}

const NARROW_FACTOR = 50

/** Workflows that moved since a paging started: their uids, and their entries at their keys then, in list order. */
export interface Moved {
  keys: ReadonlyMap<string, SortKey>
  entries: readonly IndexEntry[]
}

/**
 * `source` from after `after`, in list order; with `moved`, the workflows that moved since the paging started at
 * their places then, instead of where they are now.
 */
function sequence(source: readonly IndexEntry[], after: SortKey | undefined, moved: Moved | undefined): () => IndexEntry | undefined {
  let i = after ? firstAfter(source, after) : 0
  if (!moved) return () => source[i++]
  const { keys, entries } = moved
  let j = after ? firstAfter(entries, after) : 0
  return () => {
    while (i < source.length && keys.has((source[i] as IndexEntry).uid)) i++
    const a = source[i]
    const b = entries[j]
    if (a && (!b || compareKeys(a, b) < 0)) return source[i++]
    return b ? entries[j++] : undefined
  }
}

/** The page of `source` (entries in list order) that `q` asks for, and whether more match after it. */
export function queryEntries(source: readonly IndexEntry[], q: StoreQuery, moved?: Moved): StorePage {
  const matches = (e: IndexEntry) => matchesQuery(e, q)
  const next = sequence(source, q.after, moved)
  const items: IndexEntry[] = []
  let skip = q.offset ?? 0
  const max = q.limit > 0 ? q.limit : Infinity
  let e: IndexEntry | undefined
  while (items.length < max && (e = next())) {
    if (!matches(e)) continue
    if (skip > 0) { skip--; continue }
    items.push(e)
  }
  let more = false
  let remaining: number | undefined
  if (q.countRemaining) {
    remaining = 0
    while ((e = next())) if (matches(e)) remaining++
    more = remaining > 0
  } else {
    while ((e = next())) if (matches(e)) { more = true; break }
  }
  return { items, more, remaining }
}

/**
 * When an equality requirement selects few workflows, page through just those instead of scanning the scope.
 * Scanning costs about limit × scope / k entries for k candidates, sorting them k·log k: narrow only when
 * k² < NARROW_FACTOR × scope, i.e. when the candidates are a small fraction of the scope.
 * @param labels label key → value → uids
 */
export function narrowByLabels(reqs: readonly Requirement[], labels: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>,
  byUid: ReadonlyMap<string, IndexEntry>, scopeSize: number): IndexEntry[] | undefined {
  let best: Iterable<string> | undefined
  let bestSize = Infinity
  for (const r of reqs) {
    if (r.operator !== '=' && r.operator !== '==' && r.operator !== 'in') continue
    const byValue = labels.get(r.key)
    const sets = r.values.map((v) => byValue?.get(v)).filter((x): x is ReadonlySet<string> => x !== undefined)
    const size = sets.reduce((n, x) => n + x.size, 0)
    if (size < bestSize) {
      bestSize = size
      best = sets.length === 1 ? sets[0] : new Set(sets.flatMap((x) => [...x]))
    }
  }
  if (!best || bestSize * bestSize > NARROW_FACTOR * scopeSize) return undefined
  const out: IndexEntry[] = []
  for (const uid of best) {
    const e = byUid.get(uid)
    if (e) out.push(e)
  }
  return out.sort(compareKeys)
}

export function matchesQuery(e: IndexEntry, q: StoreQuery): boolean {
  if (q.namespace && (q.namespaceNot ? e.namespace === q.namespace : e.namespace !== q.namespace)) return false
  if (q.labels.length && !matchesLabels(q.labels, e.labels)) return false
  if (q.name) {
    const { op, value } = q.name
    if (op === 'Exact' && e.name !== value) return false
    if (op === 'NotEquals' && e.name === value) return false
    if (op === 'Contains' && !e.name.includes(value)) return false
    if (op === 'Prefix' && !e.name.startsWith(value)) return false
  }
  if (q.createdAfter !== undefined && e.created < q.createdAfter) return false
  if (q.finishedBefore !== undefined && (!e.finished || e.finished > q.finishedBefore)) return false
  // inclusive bounds, as upstream's (spec §6.4)
  if (q.startedAfter !== undefined && (!e.started || e.started < q.startedAfter)) return false
  if (q.startedBefore !== undefined && (!e.started || e.started > q.startedBefore)) return false
  return true
}
