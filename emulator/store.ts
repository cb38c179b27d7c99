/**
 * Object storage: per-resource maps plus sorted keys (namespace, then name), the global resourceVersion
 * counter and the bounded watch history. Objects are kept only as their JSON (serialized once) plus the
 * few parsed fields needed for selectors, so 50k large objects stay cheap.
 */
import type { KubeObject } from './types.js'
import type { ResourceDef } from './resources.js'
import { resourceKey } from './resources.js'
import { extractFields } from './selectors.js'

export interface Entry {
  key: string
  namespace: string // '' when cluster-scoped
  name: string
  json: string
  labels: Record<string, string> | undefined
  /** field-selector values beyond metadata.name/namespace */
  fields: Record<string, string>
  rv: number
  /** resourceVersion at which this object (this incarnation) was created: paging snapshots skip later ones */
  createdRV: number
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  type: EventType
  rv: number
  res: ResourceDef
  entry: Entry
  /** state before a MODIFIED or DELETED (what a list at an earlier resourceVersion shows) */
  prev?: Entry
}

/** Keys sort by namespace then name: NUL cannot occur in either, and sorts before every name character. */
export function objectKey(namespace: string, name: string): string {
  return namespace ? `${namespace}\u0000${name}` : name
}

export function parseJson(json: string): KubeObject {
  return JSON.parse(json) as KubeObject
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((keys[mid] as string) < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

function merge(old: string[], add: string[], drop: Set<string>): string[] {
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < old.length || j < add.length) {
    const a = old[i]
    if (a !== undefined && drop.has(a)) {
      i++
      continue
    }
    const b = add[j]
    if (b === undefined || (a !== undefined && a < b)) {
      out.push(a as string)
      i++
    } else {
      out.push(b)
      j++
    }
  }
  return out
}

/**
 * A resource's objects by key, plus its keys in sorted order. Inserting into a big sorted array one key at a
 * time is quadratic, so new keys wait in `pending` and deleted ones in `tombstones` until the next ordered read
 * merges them in (O(n + k log k)).
 */
class Table {
  readonly map = new Map<string, Entry>()
  #sorted: string[] = []
  readonly #pending = new Set<string>()
  /** keys still in #sorted whose objects are gone */
  readonly #tombstones = new Set<string>()

  set(e: Entry): void {
    if (!this.map.has(e.key)) {
      if (this.#tombstones.has(e.key)) this.#tombstones.delete(e.key)
      else this.#pending.add(e.key)
    }
    this.map.set(e.key, e)
  }

  delete(key: string): void {
    if (!this.map.delete(key)) return
    if (this.#pending.has(key)) this.#pending.delete(key)
    else this.#tombstones.add(key)
  }

  get keys(): string[] {
    if (this.#pending.size === 0 && this.#tombstones.size === 0) return this.#sorted
    if (this.#pending.size + this.#tombstones.size <= 8) {
      // a few changes between reads (the common steady state): patch in place, copying so running scans keep their view
      const out = this.#sorted.slice()
      for (const k of this.#tombstones) {
        const i = lowerBound(out, k)
        if (out[i] === k) out.splice(i, 1)
      }
      for (const k of this.#pending) out.splice(lowerBound(out, k), 0, k)
      this.#sorted = out
    } else {
      this.#sorted = merge(this.#sorted, [...this.#pending].sort(), this.#tombstones)
    }
    this.#pending.clear()
    this.#tombstones.clear()
    return this.#sorted
  }
}

export class Store {
  #rv = 0
  readonly #tables = new Map<string, Table>()
  readonly #history: (StoreEvent | undefined)[]
  #head = 0 // index of the oldest retained event
  #count = 0
  /** every event with rv > this is retained */
  #historyStartRV = 0
  readonly #listeners: ((ev: StoreEvent) => void)[] = []

  constructor(historySize: number) {
    this.#history = new Array<StoreEvent | undefined>(Math.max(1, historySize))
  }

  get rv(): number { return this.#rv }
  get historyStartRV(): number { return this.#historyStartRV }

  onEvent(fn: (ev: StoreEvent) => void): void {
    this.#listeners.push(fn)
  }

  #table(res: ResourceDef): Table {
    const k = resourceKey(res.group, res.resource)
    let t = this.#tables.get(k)
    if (!t) {
      t = new Table()
      this.#tables.set(k, t)
    }
    return t
  }

  get(res: ResourceDef, namespace: string, name: string): Entry | undefined {
    return this.#table(res).map.get(objectKey(res.namespaced ? namespace : '', name))
  }

  nextRV(): number {
    return ++this.#rv
  }

  /** Stores `obj` (whose metadata.resourceVersion the caller set from nextRV()) and emits the event. */
  commit(res: ResourceDef, type: 'ADDED' | 'MODIFIED', obj: KubeObject, rv: number): Entry {
    const t = this.#table(res)
    const namespace = res.namespaced ? String(obj.metadata.namespace ?? '') : ''
    const name = String(obj.metadata.name ?? '')
    const key = objectKey(namespace, name)
    const prev = t.map.get(key)
    const entry: Entry = {
      key, namespace, name,
      json: JSON.stringify(obj),
      labels: obj.metadata.labels,
      fields: extractFields(res, obj),
      rv,
      createdRV: type === 'ADDED' || !prev ? rv : prev.createdRV,
    }
    t.set(entry)
    this.#emit(prev && type === 'MODIFIED' ? { type, rv, res, entry, prev } : { type, rv, res, entry })
    return entry
  }

  /** Removes the object; `finalObj` is its last state with the deletion's resourceVersion. */
  remove(res: ResourceDef, prev: Entry, finalObj: KubeObject, rv: number): Entry {
    const t = this.#table(res)
    t.delete(prev.key)
    const entry: Entry = { ...prev, json: JSON.stringify(finalObj), labels: finalObj.metadata.labels, fields: extractFields(res, finalObj), rv }
    this.#emit({ type: 'DELETED', rv, res, entry, prev })
    return entry
  }

  #emit(ev: StoreEvent): void {
    const cap = this.#history.length
    if (this.#count === cap) {
      const old = this.#history[this.#head]
      if (old) this.#historyStartRV = old.rv
      this.#history[this.#head] = ev
      this.#head = (this.#head + 1) % cap
    } else {
      this.#history[(this.#head + this.#count) % cap] = ev
      this.#count++
    }
    for (const fn of this.#listeners) fn(ev)
  }

  /** Retained events with rv > `after`, oldest first; undefined when history no longer reaches back that far. */
  eventsSince(after: number): StoreEvent[] | undefined {
    if (after < this.#historyStartRV) return undefined
    const out: StoreEvent[] = []
    const cap = this.#history.length
    // binary search would do, but replays are rare and bounded by historySize
    for (let i = 0; i < this.#count; i++) {
      const ev = this.#history[(this.#head + i) % cap] as StoreEvent
      if (ev.rv > after) out.push(ev)
    }
    return out
  }

  /**
   * A resource's objects as they were at `rv`, in key order (a list with resourceVersionMatch=Exact, which the
   * apiserver serves from etcd while that revision is not compacted): the current ones with every retained change
   * after `rv` undone. Undefined when history no longer reaches back that far.
   */
  entriesAt(res: ResourceDef, namespace: string | undefined, rv: number): Entry[] | undefined {
    const since = this.eventsSince(rv)
    if (!since) return undefined
    // the first change after rv to each object says what it was at rv: absent (ADDED) or the version it replaced
    const then = new Map<string, Entry | undefined>()
    for (const ev of since) if (ev.res === res && !then.has(ev.entry.key)) then.set(ev.entry.key, ev.type === 'ADDED' ? undefined : ev.prev)
    const out: Entry[] = []
    for (const e of this.scan(res, namespace)) if (!then.has(e.key)) out.push(e)
    const prefix = res.namespaced && namespace ? `${namespace}\u0000` : ''
    for (const e of then.values()) if (e && e.key.startsWith(prefix)) out.push(e)
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  compact(): void {
    this.#history.fill(undefined)
    this.#head = 0
    this.#count = 0
    this.#historyStartRV = this.#rv
  }

  /** Entries in key order, restricted to a namespace (when given and the resource is namespaced), strictly after `afterKey`. */
  *scan(res: ResourceDef, namespace: string | undefined, afterKey?: string): Generator<Entry> {
    const t = this.#table(res)
    const keys = t.keys
    const prefix = res.namespaced && namespace ? `${namespace}\u0000` : ''
    let i = lowerBound(keys, prefix)
    if (afterKey !== undefined && afterKey >= prefix) {
      i = lowerBound(keys, afterKey)
      if (keys[i] === afterKey) i++
    }
    for (; i < keys.length; i++) {
      const k = keys[i] as string
      if (prefix && !k.startsWith(prefix)) return
      const e = t.map.get(k)
      if (e) yield e
    }
  }

  /** How many keys follow `afterKey` within the namespace range (an upper bound for remainingItemCount). */
  countAfter(res: ResourceDef, namespace: string | undefined, afterKey: string): number {
    const keys = this.#table(res).keys
    const start = lowerBound(keys, afterKey) + (keys[lowerBound(keys, afterKey)] === afterKey ? 1 : 0)
    if (!(res.namespaced && namespace)) return keys.length - start
    const end = lowerBound(keys, `${namespace}\u0001`)
    return Math.max(0, end - start)
  }

  size(res: ResourceDef): number {
    return this.#table(res).map.size
  }
}
