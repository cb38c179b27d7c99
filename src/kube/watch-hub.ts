import { ApiError, GrpcCode } from '../http/errors.js'
import { connectionFailure } from './errors.js'
import { HubEvent, comparePositions, idOf, parsePosition, type HubEntry, type Position } from './hub-event.js'

export { HubEvent, type HubEntry } from './hub-event.js'

export interface Subscriber<E extends HubEntry = HubEntry> {
  matches(entry: E): boolean
  deliver(event: HubEvent<E>): void
  fail(err: ApiError): void
}

/** What a stream that reads Kubernetes by other means (a log follow) watches to fail with the rest in an outage. */
export interface OutageNotice {
  /** Calls `fail` when the next outage is declared; returns the function that stops it. */
  onOutage(fail: (err: ApiError) => void): () => void
}

export interface HubOptions {
  /** bytes of recent events kept for resuming (Last-Event-ID / resourceVersion) */
  historyBytes: number
  /** how long the upstream watch may fail before every client gets a stream error */
  outageMs: number
  /**
   * Asked when that time is up: whether the API still fails (Informer.attemptNow: one more attempt, at once). An
   * API back in the last moments of the window is found, not declared down a retry before it would be.
   */
  stillFailing?: () => Promise<boolean>
}

/** How long a client resuming from a position this hub has not reached yet waits for it (see catchUp). */
const CATCH_UP_MS = 3_000

/** Bytes an event keeps in the history: its object, and the previous one and its DELETED form when kept. */
const eventBytes = (ev: HubEvent): number => ev.entry.json.length + 2 * (ev.prev?.json.length ?? 0)

/**
 * One change as one client's selectors see it, as a Kubernetes watch with selectors reports it
 * (k8s.io/apiserver cacheWatcher.convertToWatchEvent): MODIFIED if old and new versions both match, ADDED if only
 * the new one does, DELETED if only the old one does, nothing if neither. Without `prev` the event is as it is.
 */
export function asSeenBy<E extends HubEntry>(sub: Pick<Subscriber<E>, 'matches'>, ev: HubEvent<E>, prev = ev.prev): HubEvent<E> | undefined {
  const now = sub.matches(ev.entry)
  if (!prev) return now ? ev : undefined
  const before = sub.matches(prev)
  if (now) return before ? ev : ev.as('ADDED')
  return before ? ev.as('DELETED') : undefined
}

function offer<E extends HubEntry>(sub: Subscriber<E>, ev: HubEvent<E>, prev: E | undefined): void {
  const seen = asSeenBy(sub, ev, prev)
  if (seen) sub.deliver(seen)
}

/**
 * Fans one upstream watch out to many clients (lessons-from-argo §1d): each client's filter runs here, events are
 * serialized once, and a bounded history lets a reconnecting client resume exactly after the last event it saw.
 */
export class WatchHub<E extends HubEntry = HubEntry> implements OutageNotice {
  readonly #opts: HubOptions
  readonly #subs = new Set<Subscriber<E>>()
  readonly #outageListeners = new Set<(err: ApiError) => void>()
  #history: HubEvent<E>[] = []
  #historyBytes = 0
  /** every event after #start is in #history, in order */
  #start: Position = { rv: 0, n: 0 }
  /** the last event's position (or the list's a reset started from) */
  #pos: Position = { rv: 0, n: 0 }
  #failingSince = 0
  /** the outage has been declared: every client was told, new ones are refused */
  #declared = false
  #failure: Error | undefined
  #outageTimer: NodeJS.Timeout | undefined
  /** clients waiting for this hub to reach the position they resume from (see catchUp) */
  readonly #waiting = new Set<{ at: Position; done: () => void }>()

  constructor(opts: HubOptions) {
    this.#opts = opts
  }

  /** The id of the current position: what a snapshot of the current state is resumed after. */
  get position(): string {
    return idOf(this.#pos)
  }

  /** The state the history starts from (after a full list): older positions cannot be resumed. */
  reset(rv: number): void {
    this.#history = []
    this.#historyBytes = 0
    this.#start = { rv, n: 0 }
    if (rv > this.#pos.rv) this.#pos = this.#start
    this.#wake()
  }

  /**
   * Every change up to `rv` has been published (a watch bookmark, the end of a list). The position moves, so ids up
   * to it resume here, and the history does not: no event lies in between.
   */
  advance(rv: number): void {
    if (rv <= this.#pos.rv) return
    this.#pos = { rv, n: 0 }
    this.#wake()
  }

  /**
   * Resolves once `from` is not ahead of what this hub has published, or after `ms`. A client may resume from an id
   * another replica sent, whose watch is a little ahead of this one's: as the apiserver's watch cache waits (up to
   * 3 s, waitUntilFreshAndBlock) for a resourceVersion it has not reached, rather than answer from older state.
   */
  catchUp(from: string, ms = CATCH_UP_MS): Promise<void> {
    const at = parsePosition(from)
    if (!at || comparePositions(at, this.#pos) <= 0 || this.outage) return Promise.resolve()
    return new Promise((resolve) => {
      const w = {
        at,
        done: () => {
          clearTimeout(timer)
          this.#waiting.delete(w)
          resolve()
        },
      }
      const timer = setTimeout(w.done, ms)
      timer.unref()
      this.#waiting.add(w)
    })
  }

  #wake(): void {
    for (const w of this.#waiting) if (comparePositions(w.at, this.#pos) <= 0) w.done()
  }

  /** Whether the events after `from` (an id this hub sent, or a resourceVersion) are all still retained. */
  canResumeFrom(from: number | string): boolean {
    const p = parsePosition(from)
    return p !== undefined && comparePositions(p, this.#start) >= 0 && comparePositions(p, this.#pos) <= 0
  }

  /**
   * Whether `from` is a plain resourceVersion older than the retained history (this server restarted, or started
   * after the client's last event): what changed since then, only Kubernetes can tell (see PastStates).
   */
  predates(from: string): boolean {
    const p = parsePosition(from)
    return p !== undefined && p.n === 0 && p.rv > 0 && comparePositions(p, this.#start) < 0
  }

  publish(event: HubEvent<E>): void {
    const rv = event.rv
    this.#pos = rv > this.#pos.rv ? { rv, n: 0 } : { rv: this.#pos.rv, n: this.#pos.n + 1 }
    event.placeAt(this.#pos)
    this.#history.push(event)
    this.#historyBytes += eventBytes(event)
    while (this.#historyBytes > this.#opts.historyBytes && this.#history.length > 1) {
      const old = this.#history.shift() as HubEvent<E>
      this.#historyBytes -= eventBytes(old)
      this.#start = old.position
    }
    if (this.#waiting.size) this.#wake()
    const { entry, prev } = event
    // The common case, labels and fields unchanged, costs one test per client.
    if (prev) for (const sub of this.#subs) offer(sub, event, prev)
    else for (const sub of this.#subs) if (sub.matches(entry)) sub.deliver(event)
  }

  /**
   * Adds a client. With `from`, first replays every retained event after it (the caller checked canResumeFrom).
   * Synchronous, so nothing published in between is missed.
   */
  subscribe(sub: Subscriber<E>, from?: number | string): () => void {
    if (this.outage) {
      sub.fail(this.#outageError())
      return () => {}
    }
    const after = from === undefined ? undefined : parsePosition(from)
    if (after) {
      // The same choice of type as live delivery (offer), so a replay agrees with what was sent live.
      for (const ev of this.#history) if (comparePositions(ev.position, after) > 0) offer(sub, ev, ev.prev)
    }
    this.#subs.add(sub)
    return () => this.#subs.delete(sub)
  }

  onOutage(fail: (err: ApiError) => void): () => void {
    // Not failed at once during an outage already declared: the caller has just been answered by the API, so it is
    // back, and the informer only has yet to notice. The next outage it declares ends this one too.
    // Kept apart from the clients: they are told of outages only, never offered events.
    this.#outageListeners.add(fail)
    return () => this.#outageListeners.delete(fail)
  }

  /** The stream error of a declared outage (what its clients were closed with); undefined while there is none. */
  get outageError(): ApiError | undefined {
    return this.outage ? this.#outageError() : undefined
  }

  /** True once the upstream watch has failed for longer than `outageMs` (and a last attempt failed too). */
  get outage(): boolean {
    return this.#declared
  }

  /**
   * The informer's health: `outageMs` after the API last answered (`since`, not when the failure was noticed: a
   * stalled watch takes up to two stall periods to notice), every client is closed with a stream error.
   */
  setHealth(err: Error | undefined, since = Date.now()): void {
    if (!err) {
      this.#failingSince = 0
      this.#declared = false
      this.#failure = undefined
      clearTimeout(this.#outageTimer)
      this.#outageTimer = undefined
      return
    }
    this.#failure = err
    if (this.#failingSince) return
    this.#failingSince = since
    this.#outageTimer = setTimeout(async () => {
      if (this.#opts.stillFailing && !(await this.#opts.stillFailing())) return
      // Recovered meanwhile (setHealth cleared it), or failing again since later: that failure has its own timer.
      if (this.#failingSince !== since || this.#declared) return
      this.#declared = true
      const e = this.#outageError()
      for (const sub of [...this.#subs]) sub.fail(e)
      this.#subs.clear()
      for (const fail of [...this.#outageListeners]) fail(e)
      this.#outageListeners.clear()
      for (const w of this.#waiting) w.done()
    }, Math.max(0, this.#opts.outageMs - (Date.now() - since)))
    this.#outageTimer.unref()
  }

  #outageError(): ApiError {
    // A connection failure's own text names the API's address (`request to https://10.0.0.1:443/… failed`): for the
    // log, not the clients (as apiUnavailable); an apiserver's answer or a stall is said as it is.
    const f = this.#failure
    const reason = f ? connectionFailure(f) ?? f.message : 'watch failing'
    return new ApiError(GrpcCode.Unavailable, `the Kubernetes API is unavailable: ${reason}`)
  }

  /** Stops; with `reason`, every subscriber and outage listener is told (their streams end with it). */
  close(reason?: ApiError): void {
    clearTimeout(this.#outageTimer)
    this.#failingSince = 0
    for (const w of this.#waiting) w.done()
    if (reason) {
      for (const sub of [...this.#subs]) sub.fail(reason)
      for (const fail of [...this.#outageListeners]) fail(reason)
    }
    this.#subs.clear()
    this.#outageListeners.clear()
  }
}
