import { ApiError, GrpcCode } from '../http/errors.js'

/** What a hub publishes: an object as the server caches it (its wire JSON) and what selectors need. */
export interface HubEntry {
  readonly uid: string
  readonly namespace: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly resourceVersion: number
  readonly json: Buffer | string
}

export type HubEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export class HubEvent<E extends HubEntry = HubEntry> {
  #result: string | undefined
  /** wire frames of this event, built once per framing and shared by every client (see EventStream.sendShared) */
  readonly frames = new Map<string, Buffer>()
  constructor(readonly type: HubEventType, readonly entry: E, readonly rv: number) {}

  /** `{"type":…,"object":…}`, serialized once and shared by every client. */
  get watchResult(): string {
    this.#result ??= `{"type":"${this.type}","object":${this.entry.json.toString()}}`
    return this.#result
  }
}

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
}

/**
 * Fans one upstream watch out to many clients (lessons-from-argo §1d): each client's filter runs here, events are
 * serialized once, and a bounded history lets a reconnecting client resume exactly after the last event it saw.
 */
export class WatchHub<E extends HubEntry = HubEntry> implements OutageNotice {
  readonly #opts: HubOptions
  readonly #subs = new Set<Subscriber<E>>()
  #history: HubEvent<E>[] = []
  #historyBytes = 0
  /** every event with rv > startRv is in #history */
  #startRv = 0
  #rv = 0
  #failingSince = 0
  #failure: Error | undefined
  #outageTimer: NodeJS.Timeout | undefined

  constructor(opts: HubOptions) {
    this.#opts = opts
  }

  get resourceVersion(): number {
    return this.#rv
  }

  get subscribers(): number {
    return this.#subs.size
  }

  /** The state the history starts from (after a full list): older positions cannot be resumed. */
  reset(rv: number): void {
    this.#history = []
    this.#historyBytes = 0
    this.#startRv = rv
    this.#rv = Math.max(this.#rv, rv)
  }

  canResumeFrom(rv: number): boolean {
    return rv >= this.#startRv && rv <= this.#rv
  }

  publish(event: HubEvent<E>): void {
    this.#history.push(event)
    this.#historyBytes += event.entry.json.length
    while (this.#historyBytes > this.#opts.historyBytes && this.#history.length > 1) {
      const old = this.#history.shift() as HubEvent<E>
      this.#historyBytes -= old.entry.json.length
      this.#startRv = old.rv
    }
    this.#rv = Math.max(this.#rv, event.rv)
    for (const sub of this.#subs) if (sub.matches(event.entry)) sub.deliver(event)
  }

  /**
   * Adds a client. With `from`, first replays every retained event after it (the caller checked canResumeFrom).
   * Synchronous, so nothing published in between is missed.
   */
  subscribe(sub: Subscriber<E>, from?: number): () => void {
    if (this.outage) {
      sub.fail(this.#outageError())
      return () => {}
    }
    if (from !== undefined) {
      for (const ev of this.#history) if (ev.rv > from && sub.matches(ev.entry)) sub.deliver(ev)
    }
    this.#subs.add(sub)
    return () => this.#subs.delete(sub)
  }

  onOutage(fail: (err: ApiError) => void): () => void {
    // Not failed at once during an outage already declared: the caller has just been answered by the API, so it is
    // back, and the informer only has yet to notice. The next outage it declares ends this one too.
    const sub: Subscriber<E> = { matches: () => false, deliver: () => {}, fail }
    this.#subs.add(sub)
    return () => this.#subs.delete(sub)
  }

  /** True once the upstream watch has been failing for longer than `outageMs`. */
  get outage(): boolean {
    return this.#failingSince > 0 && Date.now() - this.#failingSince >= this.#opts.outageMs
  }

  /** The informer's health: after `outageMs` of failure every client is closed with a stream error, not left hanging. */
  setHealth(err: Error | undefined): void {
    if (!err) {
      this.#failingSince = 0
      this.#failure = undefined
      clearTimeout(this.#outageTimer)
      this.#outageTimer = undefined
      return
    }
    this.#failure = err
    if (this.#failingSince) return
    this.#failingSince = Date.now()
    this.#outageTimer = setTimeout(() => {
      const e = this.#outageError()
      for (const sub of [...this.#subs]) sub.fail(e)
      this.#subs.clear()
    }, this.#opts.outageMs)
    this.#outageTimer.unref()
  }

  #outageError(): ApiError {
    return new ApiError(GrpcCode.Unavailable, `the Kubernetes API is unavailable: ${this.#failure?.message ?? 'watch failing'}`)
  }

  close(): void {
    clearTimeout(this.#outageTimer)
    this.#subs.clear()
  }
}
