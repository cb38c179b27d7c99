/**
 * Watch streams. Watchers are indexed by (resource, namespace, pinned name) so an event only visits the
 * watchers that could match it: thousands of watches on single objects cost nothing per unrelated write.
 */
import type { ServerResponse } from 'node:http'
import type { ResourceDef } from './resources.js'
import { apiVersionOf, resourceKey } from './resources.js'
import type { Entry, EventType, Store, StoreEvent } from './store.js'
import type { Selector } from './selectors.js'
import { matches, pinnedName } from './selectors.js'
import { errors } from './status.js'

export interface WatchRequest {
  res: ResourceDef
  namespace: string // '' = all namespaces (or a cluster-scoped resource)
  sel: Selector
  path: string
  resourceVersion: string | null
  bookmarks: boolean
  timeoutSeconds: number | undefined
}

/** Writing more than this to a client that does not read ends its watch, rather than buffering without bound. */
const MAX_BUFFERED = 64 * 1024 * 1024

class Watcher {
  bookmarkTimer: NodeJS.Timeout | undefined
  timeoutTimer: NodeJS.Timeout | undefined
  closed = false
  /** lines (and the end, as null) held while the hub is paused */
  held: (string | null)[] | undefined
  constructor(readonly req: WatchRequest, readonly resp: ServerResponse, readonly bucket: string) {}

  write(line: string): void {
    if (this.closed) return
    if (this.held) return void this.held.push(line)
    this.resp.write(line)
    if (this.resp.writableLength > MAX_BUFFERED) this.resp.destroy()
  }

  release(): void {
    const held = this.held ?? []
    this.held = undefined
    for (const line of held) {
      if (line === null) return void this.resp.end()
      this.resp.write(line)
    }
  }
}

/** What a watcher with selector `sel` should be told about `ev`, given that it tracks matching objects only. */
function decide(sel: Selector, ev: StoreEvent): EventType | undefined {
  const now = matches(sel, ev.entry)
  if (ev.type === 'ADDED') return now ? 'ADDED' : undefined
  if (ev.type === 'DELETED') return now ? 'DELETED' : undefined
  const before = ev.prev ? matches(sel, ev.prev) : false
  if (now) return before ? 'MODIFIED' : 'ADDED'
  return before ? 'DELETED' : undefined
}

function eventLine(type: string, json: string): string {
  return `{"type":"${type}","object":${json}}\n`
}

export class WatchHub {
  readonly #buckets = new Map<string, Set<Watcher>>()
  readonly #all = new Set<Watcher>()
  #paused = false
  readonly #endedWhilePaused: Watcher[] = []

  constructor(private readonly store: Store, private readonly bookmarkIntervalMs: number) {
    store.onEvent((ev) => this.#dispatch(ev))
  }

  #bucketKey(res: ResourceDef, namespace: string, name: string): string {
    return `${resourceKey(res.group, res.resource)}|${namespace}|${name}`
  }

  #dispatch(ev: StoreEvent): void {
    if (this.#all.size === 0) return
    const e = ev.entry
    const nss = e.namespace ? [e.namespace, ''] : ['']
    const lines: Partial<Record<EventType, string>> = {}
    for (const ns of nss) {
      for (const name of [e.name, '']) {
        const set = this.#buckets.get(this.#bucketKey(ev.res, ns, name))
        if (!set) continue
        for (const w of set) {
          const type = decide(w.req.sel, ev)
          if (!type) continue
          const line = lines[type] ?? (lines[type] = eventLine(type, e.json))
          w.write(line)
        }
      }
    }
  }

  /** Serves a watch request on `resp` (headers not yet sent) until the client goes, a timeout, or a drop. */
  serve(req: WatchRequest, resp: ServerResponse): void {
    // A request held by pause() and released after its connection closed (the emulator closed meanwhile): its
    // 'close' has already fired, so timers registered now would never be cleared and keep the process alive.
    if (resp.destroyed || !resp.socket || resp.socket.destroyed) return
    const { res, sel } = req
    let replay: { type: EventType; entry: Entry }[] = []
    const rv = req.resourceVersion
    if (rv === null || rv === '' || rv === '0') {
      for (const e of this.store.scan(res, req.namespace || undefined)) if (matches(sel, e)) replay.push({ type: 'ADDED', entry: e })
    } else {
      if (!/^\d+$/.test(rv)) throw errors.badRequest(`resourceVersion: Invalid value: "${rv}": must be a valid resourceVersion`)
      const events = this.store.eventsSince(Number(rv))
      if (!events) {
        resp.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' })
        const status = errors.expired(`too old resource version: ${rv} (${this.store.historyStartRV})`).toStatus()
        resp.end(eventLine('ERROR', JSON.stringify(status)))
        return
      }
      replay = []
      for (const ev of events) {
        if (ev.res !== res || (req.namespace && ev.entry.namespace !== req.namespace)) continue
        const type = decide(sel, ev)
        if (type) replay.push({ type, entry: ev.entry })
      }
    }
    resp.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
    resp.flushHeaders()
    resp.socket?.setNoDelay(true)
    const w = new Watcher(req, resp, this.#bucketKey(res, req.namespace, pinnedName(sel) ?? ''))
    if (this.#paused) w.held = []
    for (const r of replay) w.write(eventLine(r.type, r.entry.json))
    this.#register(w)
    const cleanup = (): void => this.#unregister(w)
    resp.on('close', cleanup)
    resp.on('error', cleanup)
    if (req.bookmarks && this.bookmarkIntervalMs > 0) {
      const head = `{"type":"BOOKMARK","object":{"kind":${JSON.stringify(res.kind)},"apiVersion":${JSON.stringify(apiVersionOf(res))},"metadata":{"resourceVersion":"`
      w.bookmarkTimer = setInterval(() => w.write(`${head}${this.store.rv}"}}}\n`), this.bookmarkIntervalMs)
    }
    if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) {
      w.timeoutTimer = setTimeout(() => {
        this.#unregister(w)
        if (!w.held) return void resp.end()
        w.held.push(null) // a paused server ends nothing either: the end comes with what is held
        this.#endedWhilePaused.push(w)
      }, req.timeoutSeconds * 1000)
    }
  }

  #register(w: Watcher): void {
    let set = this.#buckets.get(w.bucket)
    if (!set) {
      set = new Set()
      this.#buckets.set(w.bucket, set)
    }
    set.add(w)
    this.#all.add(w)
  }

  #unregister(w: Watcher): void {
    if (w.closed) return
    w.closed = true
    clearInterval(w.bookmarkTimer)
    clearTimeout(w.timeoutTimer)
    this.#all.delete(w)
    const set = this.#buckets.get(w.bucket)
    if (set) {
      set.delete(w)
      if (set.size === 0) this.#buckets.delete(w.bucket)
    }
  }

  /** Open watches send nothing until the returned function is called, then everything held (Emulator.pause). */
  pause(): () => void {
    this.#paused = true
    for (const w of this.#all) w.held ??= []
    return () => {
      this.#paused = false
      for (const w of this.#all) w.release()
      this.#endedWhilePaused.splice(0).forEach((w) => w.release())
    }
  }

  /** Destroys every watch connection (the client sees its stream break). */
  dropAll(): void {
    for (const w of [...this.#all]) {
      this.#unregister(w)
      w.resp.socket?.destroy()
      w.resp.destroy()
    }
  }

  /** Ends every watch cleanly (used on close). */
  endAll(): void {
    for (const w of [...this.#all]) {
      this.#unregister(w)
      w.resp.end()
    }
  }

  count(path?: RegExp): number {
    if (!path) return this.#all.size
    let n = 0
    for (const w of this.#all) if (path.test(w.req.path)) n++
    return n
  }
}
