import { toWireJson } from '../http/wire.js'
import type { KubeObject } from '../kube/resources.js'
import { ARCHIVE_FINALIZER } from '../lib/workflow-labels.js'
import { isDehydrated } from './hydrate.js'


/** One workflow as the list index holds it: the sort key, what filters need, and its wire JSON. */
export interface IndexEntry {
  readonly uid: string
  readonly namespace: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly created: number // ms
  readonly started: number // ms, 0 if not started
  readonly finished: number // ms, 0 if not finished
  /** 0 = unfinished, 1 = finished (upstream's `Workflows.Less` puts unfinished first) */
  readonly group: 0 | 1
  /** creationTimestamp for unfinished, finishedAt for finished: sorted descending */
  readonly time: number
  readonly resourceVersion: number
  /** its nodes are compressed or offloaded (streams put them back before sending, see hydrate.ts) */
  readonly dehydrated: boolean
  /** metadata.finalizers has ARCHIVE_FINALIZER */
  readonly archiveHold: boolean
  /** metadata.deletionTimestamp is set: marked for deletion, waiting for finalizers */
  readonly deleting: boolean
  /**
   * `{"metadata":…,"spec":…,"status":…}` with upstream's escaping, managedFields stripped, as UTF-8 bytes:
   * outside the V8 heap, so the bulk of the cache does not inflate the heap's growth headroom.
   */
  readonly json: Buffer
}

/** The keyset position of an entry: pages continue strictly after it. */
export interface SortKey {
  readonly group: 0 | 1
  readonly time: number
  readonly uid: string
}

export function compareKeys(a: SortKey, b: SortKey): number {
  if (a.group !== b.group) return a.group - b.group
  if (a.time !== b.time) return b.time - a.time
  return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0
}

const ms = (t: unknown): number => {
  if (typeof t !== 'string' || !t) return 0
  const v = Date.parse(t)
  return Number.isNaN(v) ? 0 : v
}

/** The Workflow as upstream serves it: only metadata, spec and status, spec/status always present (spec §0). */
export function toApiObject(obj: KubeObject): { metadata: KubeObject['metadata']; spec: unknown; status: unknown } {
  const { managedFields: _m, ...metadata } = obj.metadata ?? {}
  return { metadata, spec: obj.spec ?? {}, status: obj.status ?? {} }
}

export function toEntry(obj: KubeObject): IndexEntry | undefined {
  const md = obj.metadata
  if (!md?.uid || !md.name) return undefined
  const status = (obj.status ?? {}) as { finishedAt?: unknown; startedAt?: unknown }
  const created = ms(md.creationTimestamp)
  const finished = ms(status.finishedAt)
  const group = finished ? 1 : 0
  return {
    uid: md.uid,
    namespace: md.namespace ?? '',
    name: md.name,
    labels: md.labels ?? {},
    created,
    started: ms(status.startedAt),
    finished,
    group,
    time: group ? finished : created,
    resourceVersion: Number(md.resourceVersion ?? 0) || 0,
    dehydrated: isDehydrated(obj.status),
    archiveHold: Array.isArray(md.finalizers) && md.finalizers.includes(ARCHIVE_FINALIZER),
    deleting: Boolean(md.deletionTimestamp),
    json: exactBuffer(toWireJson(toApiObject(obj))),
  }
}

/** A buffer of exactly the string's bytes: small Buffer.from() slices pin whole 8 KB pool slabs. */
function exactBuffer(s: string): Buffer {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(s))
  b.write(s)
  return b
}

/** Binary search: index of the first entry strictly after `key`. */
export function firstAfter(sorted: readonly IndexEntry[], key: SortKey): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(sorted[mid] as IndexEntry, key) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

export function insertSorted(sorted: IndexEntry[], e: IndexEntry): void {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(sorted[mid] as IndexEntry, e) < 0) lo = mid + 1
    else hi = mid
  }
  sorted.splice(lo, 0, e)
}

export function removeSorted(sorted: IndexEntry[], e: SortKey): void {
  const i = firstAfter(sorted, e) - 1
  if (i >= 0 && (sorted[i] as IndexEntry).uid === e.uid) sorted.splice(i, 1)
}
