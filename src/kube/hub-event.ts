import { toWireJson } from '../http/wire.js'

/** What a hub publishes: an object as the server caches it (its wire JSON) and what selectors need. */
export interface HubEntry {
  readonly uid: string
  readonly namespace: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly resourceVersion: number
  readonly json: Buffer | string
  /** other values field selectors test (an Event's reason, involvedObject.*): compared like labels */
  readonly fields?: Readonly<Record<string, string>>
}

export type HubEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/**
 * Where an event sits in a hub's sequence, and so the SSE `id:` it goes out with and a client resumes from
 * (spec §3: upstream sends no ids; ours let EventSource's Last-Event-ID resume). An event the apiserver
 * versioned, arriving in order, sits at its resourceVersion and its id is that number, as in a Kubernetes
 * watch. A deletion a re-list after a 410 found has no version of its own: it sits at the latest it can have had
 * (diff.ts). One at a version already published (several such deletions, a watch event behind a read-your-write)
 * sits right after the current position: the n-th such at rv is (rv, n), id `rv.n`. Every event so has its own
 * id, ids grow in the order clients receive events, and resuming after any id replays exactly what followed it:
 * no gap, no duplicate, however many events one re-list synthesizes. Ids compare as (rv, n) pairs, not decimals.
 */
export interface Position {
  readonly rv: number
  readonly n: number
}

export const comparePositions = (a: Position, b: Position): number => a.rv - b.rv || a.n - b.n
export const idOf = (p: Position): string => (p.n ? `${p.rv}.${p.n}` : String(p.rv))

/** An SSE id or resourceVersion as a position; undefined when it is not one we could have sent. */
export function parsePosition(id: string | number): Position | undefined {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0 ? { rv: id, n: 0 } : undefined
  const m = /^(\d{1,15})(?:\.(\d{1,9}))?$/.exec(id)
  return m ? { rv: Number(m[1]), n: Number(m[2] ?? 0) } : undefined
}

export class HubEvent<E extends HubEntry = HubEntry> {
  #result: string | undefined
  #sent: E | undefined
  /** wire frames of this event, built once per framing and shared by every client (see EventStream.sendShared) */
  readonly frames = new Map<string, Buffer>()
  /**
   * The version a MODIFIED replaced, kept only when its labels or fields differ from the new one's: then a
   * selector may match one and not the other, and a client gets ADDED or DELETED instead (see offer, watch-hub.ts).
   */
  readonly prev: E | undefined
  #pos: Position
  #id: string | undefined
  #added: HubEvent<E> | undefined
  #deleted: HubEvent<E> | undefined

  /**
   * `rv`: the version the apiserver gave this change; for a deletion only a re-list saw (`relisted`), the latest
   * version it can have happened at (diff.ts).
   */
  constructor(readonly type: HubEventType, readonly entry: E, rv?: number, prev?: E, readonly relisted = false) {
    this.#pos = { rv: rv ?? 0, n: 0 }
    this.prev = type === 'MODIFIED' && prev && !sameSelectable(prev, entry) ? prev : undefined
  }

  /** The resourceVersion of its position (its own version, unless the hub placed it after a later one). */
  get rv(): number {
    return this.#pos.rv
  }

  get position(): Position {
    return this.#pos
  }

  /** The SSE id a client resumes after: distinct for every event of a hub (built once: read once per client). */
  get id(): string {
    this.#id ??= idOf(this.#pos)
    return this.#id
  }

  /** Called by WatchHub.publish only. */
  placeAt(pos: Position): void {
    this.#pos = pos
    this.#id = undefined
    this.#sent = undefined
    this.#result = undefined
  }

  /**
   * The entry as clients get it. A deletion a re-list found carries the last state seen, at the version it is
   * placed at, as a watch's DELETED carries the deletion's version: a client without ids (NDJSON) resumes from that
   * version. Several placed at one version carry their ids (`rv.n`, the same as their SSE ids): resourceVersions
   * are opaque to clients (Kubernetes API conventions), and a client that got all of them resumes after the last,
   * not again after the first. `entry` keeps the version last seen (the archive must not take that state for a
   * newer one).
   */
  get sent(): E {
    if (!this.relisted) return this.entry
    this.#sent ??= atVersion(this.entry, this.#pos.rv, this.id)
    return this.#sent
  }

  /** `{"type":…,"object":…}`, serialized once and shared by every client. */
  get watchResult(): string {
    this.#result ??= `{"type":"${this.type}","object":${this.sent.json.toString()}}`
    return this.#result
  }

  /**
   * This change as a client whose selector the object starts matching (ADDED, the new object) or stops matching
   * sees it: DELETED with the previous object at the change's resourceVersion, as the apiserver's watch cache
   * sends it (k8s.io/apiserver cacheWatcher.convertToWatchEvent). Same position and id; built once per event.
   */
  as(type: 'ADDED' | 'DELETED'): HubEvent<E> {
    if (type === 'ADDED') return (this.#added ??= this.#variant('ADDED', this.entry))
    return (this.#deleted ??= this.#variant('DELETED', atVersion(this.prev ?? this.entry, this.entry.resourceVersion)))
  }

  #variant(type: HubEventType, entry: E): HubEvent<E> {
    const ev = new HubEvent(type, entry)
    ev.placeAt(this.#pos)
    return ev
  }
}

function sameRecord(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true
  if (!a || !b) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const k of keys) if (a[k] !== b[k]) return false
  return true
}

/** Whether every selector matches both or neither (name and namespace are immutable; labels and fields not). */
function sameSelectable(a: HubEntry, b: HubEntry): boolean {
  return sameRecord(a.labels, b.labels) && sameRecord(a.fields, b.fields)
}

/** The entry at version `rv`, its object's metadata.resourceVersion `version` (`rv`, or an id `rv.n`). */
function atVersion<E extends HubEntry>(e: E, rv: number, version = String(rv)): E {
  const obj = JSON.parse(e.json.toString()) as { metadata?: Record<string, unknown> }
  obj.metadata = { ...obj.metadata, resourceVersion: version }
  const json = toWireJson(obj)
  return { ...e, resourceVersion: rv, json: typeof e.json === 'string' ? json : Buffer.from(json) }
}
