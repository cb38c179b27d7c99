import { setTimeout as sleep } from 'node:timers/promises'
import type { InformerHandler, InformerOptions, ListSource } from './informer-options.js'
import type { KubeObject } from './resources.js'
import { openWatch } from './watch-request.js'

/** How long before an outage is declared the informer tries once more, and how often it tries once it is. */
const LAST_CHANCE_MS = 2_000

export type { InformerEvent, InformerHandler, InformerOptions, ListSource } from './informer-options.js'

/**
 * The stall allowance for streams that end after `outageMs` of failure: noticing a stalled watch takes up to two
 * stalls (silence, then an unanswered probe), so each is a third of that window, and at most 10 s.
 */
export const stallFor = (outageMs: number): number => Math.min(10_000, outageMs / 3)

/**
 * One list-then-watch loop over a resource with the server's own credentials, as client-go's reflector:
 * resumes from the last seen resourceVersion when a watch ends, re-lists on 410 Gone, backs off on errors.
 */
export class Informer {
  readonly #source: ListSource
  readonly #handler: InformerHandler
  readonly #opts: Required<Omit<InformerOptions, 'log' | 'onHealth' | 'onProgress' | 'outageMs'>>
    & Pick<InformerOptions, 'log' | 'onHealth' | 'onProgress' | 'outageMs'>
  #stallReported = false
  /** the request under way has gone unanswered for a stall period (attemptNow answers at once then) */
  #inFlightStalled = false
  /** when the current watch was accepted; 0 before that */
  #openedAt = 0
  /** when the API last answered anything: where an outage starts */
  #answeredAt = Date.now()
  #failing = false
  #rv = ''
  /** how long the watch re-opened as stuck had been silent, until the new one says something */
  #reopenedAfter: number | undefined
  #stopped = false
  /** cuts the wait between attempts short (attemptNow) */
  #wake: AbortController | undefined
  /** callers of attemptNow, told how the next attempt went: true if it failed */
  readonly #attempts = new Set<(failing: boolean) => void>()
  #abort: AbortController | undefined
  /** aborts the lists in flight when the informer stops */
  readonly #stopping = new AbortController()
  #synced: Promise<void>
  #resolveSynced!: () => void

  constructor(source: ListSource, handler: InformerHandler, opts: InformerOptions = {}) {
    this.#source = source
    this.#handler = handler
    this.#opts = {
      pageSize: opts.pageSize ?? 500, watchTimeoutSeconds: opts.watchTimeoutSeconds ?? 300, stallMs: opts.stallMs ?? 10_000,
      stuckMs: opts.stuckMs ?? 75_000,
      log: opts.log, onHealth: opts.onHealth, onProgress: opts.onProgress, outageMs: opts.outageMs,
    }
    this.#synced = new Promise((r) => { this.#resolveSynced = r })
  }

  /** Resolves once the first full list has been delivered. */
  get synced(): Promise<void> {
    return this.#synced
  }

  get resourceVersion(): string {
    return this.#rv
  }

  start(): void {
    this.#answeredAt = Date.now()
    void this.#run()
  }

  stop(): void {
    this.#stopped = true
    this.#wake?.abort()
    this.#abort?.abort()
    this.#stopping.abort()
  }

  async #list(): Promise<void> {
    let cont: string | undefined
    let rv = ''
    this.#handler.beginSync()
    do {
      // Stalled only while no byte comes: a large page arriving slowly but steadily is an answer, not an outage.
      const page = await this.#answered((progress) => this.#source.list({ limit: this.#opts.pageSize, continue: cont }, progress, this.#stopping.signal), 'a list')
      this.#answeredAt = Date.now()
      this.#handler.syncPage(page.items)
      rv = page.metadata.resourceVersion ?? rv
      cont = page.metadata.continue || undefined
    } while (cont)
    this.#rv = rv
    this.#handler.endSync(rv)
    if (rv) this.#opts.onProgress?.(rv)
    this.#healthy()
    this.#resolveSynced()
  }

  async #run(): Promise<void> {
    let backoff = 200
    let needList = true
    while (!this.#stopped) {
      this.#openedAt = 0
      try {
        if (needList) {
          await this.#list()
          needList = false
        }
        const outcome = await this.#watchOnce()
        if (outcome === 'gone') needList = true
        backoff = 200
      } catch (err) {
        if (this.#stopped) return
        // A watch that worked for a second or more before it lost a connection (a flaky load balancer), not an API
        // that refuses nor a proxy that cuts every watch at once: re-opened at once. Doubling here left the scope
        // unwatched for up to 10 s per cut, also right after an outage had grown the wait.
        if (this.#openedAt && Date.now() - this.#openedAt >= Math.min(backoff, 1_000)) backoff = 200
        this.#unhealthy(err)
        const wait = this.#retryWait(backoff)
        this.#opts.log?.(`watch of ${this.#source.what} failed; retrying in ${wait} ms`, err)
        this.#wake = new AbortController()
        await sleep(wait, undefined, { signal: this.#wake.signal }).catch(() => undefined)
        this.#wake = undefined
        backoff = Math.min(backoff * 2, 10_000)
      }
    }
  }

  #watchOnce(): Promise<'closed' | 'gone'> {
    return new Promise((resolve, reject) => {
      let gone = false
      let ended = false
      let heard = Date.now()
      /** when this watch last said anything (heard also moves with the probes' answers) */
      let spoke = Date.now()
      let said = false
      /** when this watch was accepted; 0 before */
      let acceptedAt = 0
      const { stallMs, stuckMs, watchTimeoutSeconds } = this.#opts
      /**
       * A watch accepted and closed this soon, having said nothing (a proxy that cuts long requests as they start), is
       * no answer: the accept counts only once it has lasted this long (below). Counted at once, each attempt restarted
       * the outage's clock, and with retries under 10 s apart no outage was ever declared while nothing came.
       */
      const fleetingMs = Math.min(1_000, stallMs)
      const fleeting = () => acceptedAt > 0 && !said && Date.now() - acceptedAt < fleetingMs
      // A silent watch may be a quiet namespace or a stalled apiserver: a one-item list tells them apart. Probed
      // exactly stallMs after the last word, so a stall is noticed within two stalls of it (outageTiming).
      let idle: NodeJS.Timeout | undefined
      const waitIdle = (ms: number) => {
        idle = setTimeout(checkIdle, Math.max(ms, 10))
        idle.unref()
      }
      const checkIdle = () => {
        if (ended) return
        const quiet = Date.now() - heard
        if (quiet < stallMs) return waitIdle(stallMs - quiet)
        this.#answered((progress) => this.#source.list({ limit: 1 }, progress, this.#stopping.signal), 'a list').then((page) => {
          this.#healthy()
          // The API has moved on and this watch has said nothing for long: re-opened from the same version, it
          // replays what this one held back (or 410s into a re-list). Nothing is lost either way.
          const now = page.metadata.resourceVersion
          if (!ended && this.#abort && now && now !== this.#rv && Date.now() - spoke >= stuckMs) {
            this.#reopenedAfter = Date.now() - spoke
            this.#abort.abort()
          }
        }, (err: unknown) => this.#unhealthy(err))
          .finally(() => {
            heard = Date.now()
            if (!ended) waitIdle(stallMs)
          })
      }
      waitIdle(stallMs)
      // The apiserver ends a watch after timeoutSeconds; one still open well after that is stuck: resume elsewhere.
      let deadline: NodeJS.Timeout | undefined
      this.#answered(openWatch(this.#source.kubeConfig, this.#source.watchPath, {
        resourceVersion: this.#rv, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds,
      }, (type: string, obj: KubeObject) => {
        heard = spoke = Date.now()
        said = true
        this.#healthy()
        if (this.#reopenedAfter !== undefined) {
          // Logged only when the new watch's first word is a change the old one held back: a quiet watch
          // re-opened for nothing (its first word a bookmark) is not worth a line every stuckMs.
          if (type !== 'BOOKMARK') this.#opts.log?.(`the watch of ${this.#source.what} had said nothing for ${Math.round(this.#reopenedAfter / 1000)} s while changes were made: it was stuck, and was re-opened`)
          this.#reopenedAfter = undefined
        }
        const rv = obj?.metadata?.resourceVersion
        if (type === 'ERROR') {
          const code = (obj as { code?: number }).code
          if (code === 410) gone = true
          return
        }
        if (rv) this.#rv = rv
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.#handler.onEvent(type, obj, this.#rv)
        else if (type === 'BOOKMARK' && rv) this.#opts.onProgress?.(rv)
      }, (err: unknown) => {
        ended = true
        clearTimeout(idle)
        clearTimeout(deadline)
        this.#abort = undefined
        // 410 Gone (an ERROR event, however the API answered it: openWatch): only a re-list resumes.
        if (gone) resolve('gone')
        else if (this.#stopped || (err && isAbort(err))) resolve('closed')
        else if (err) reject(err instanceof Error ? err : new Error(String(err)))
        else if (fleeting()) reject(new Error(`the watch of ${this.#source.what} was closed as soon as it opened`))
        else resolve('closed')
      }), 'a watch').then((ac) => {
        this.#abort = ac
        // client-node resolves even when the watch was refused (it has called `done` first): not healthy then.
        if (ended) return
        this.#openedAt = acceptedAt = Date.now()
        // An answer only once it has outlived a fleeting one (a proxy cutting every watch at once): counted at accept,
        // each such watch ended a declared outage for a moment (new clients got a stale snapshot) and had it
        // declared again at once, an attempt each time instead of one every 2 s.
        setTimeout(() => !ended && !said && this.#healthy(), fleetingMs).unref()
        deadline = setTimeout(() => ac.abort(), watchTimeoutSeconds * 1000 + 2 * stallMs)
        deadline.unref()
        if (this.#stopped) ac.abort()
      }, (err: unknown) => {
        ended = true
        clearTimeout(idle)
        reject(err)
      })
    })
  }

  /**
   * `p`, reported as a failure while it stays unanswered for stallMs (and logged once per stall). Given as a function,
   * it is passed a `progress` callback: each call is an answer, and the stallMs start again.
   */
  #answered<T>(p: Promise<T> | ((progress: () => void) => Promise<T>), what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    this.#inFlightStalled = false
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        const err = new Error(`no answer to ${what} of ${this.#source.what} within ${Number((this.#opts.stallMs / 1000).toFixed(1))} s`)
        if (!this.#stallReported) this.#opts.log?.(err.message)
        this.#stallReported = true
        this.#inFlightStalled = true
        this.#unhealthy(err)
      }, this.#opts.stallMs)
      timer.unref()
    }
    arm()
    const progress = () => {
      arm()
      this.#healthy()
    }
    return (typeof p === 'function' ? p(progress) : p).finally(() => clearTimeout(timer))
  }

  /**
   * The backoff, but with an attempt 2 s before the failures become an outage (outageMs after the API last answered)
   * and one every 2 s after: a doubled backoff (up to 10 s) put the next attempt past the deadline, so an outage
   * shorter than the window still cut every stream, and clients were refused for up to 10 s after the API was back.
   */
  #retryWait(backoff: number): number {
    const { outageMs } = this.#opts
    if (outageMs === undefined) return backoff
    const untilLastChance = this.#answeredAt + outageMs - LAST_CHANCE_MS - Date.now()
    return Math.min(backoff, untilLastChance > 0 ? untilLastChance : LAST_CHANCE_MS)
  }

  /**
   * While failing: tries again at once (a wait between attempts is cut short) and resolves whether the API still
   * fails: true when that attempt fails or nothing answers within `timeoutMs`, false once anything answers.
   * WatchHub asks this before it declares an outage.
   */
  attemptNow(timeoutMs: number): Promise<boolean> {
    if (!this.#failing || this.#stopped) return Promise.resolve(this.#failing)
    // Not waiting between attempts: one is under way, and already unanswered for a stall period.
    if (!this.#wake && this.#inFlightStalled) return Promise.resolve(true)
    this.#wake?.abort()
    return new Promise((resolve) => {
      const done = (failing: boolean) => {
        clearTimeout(timer)
        this.#attempts.delete(done)
        resolve(failing)
      }
      const timer = setTimeout(() => done(true), timeoutMs)
      timer.unref()
      this.#attempts.add(done)
    })
  }

  #healthy(): void {
    this.#answeredAt = Date.now()
    if (this.#failing) this.#opts.onHealth?.(undefined)
    this.#failing = false
    this.#stallReported = false
    this.#inFlightStalled = false
    this.#settleAttempts(false)
  }

  #settleAttempts(failing: boolean): void {
    for (const done of [...this.#attempts]) done(failing)
  }

  #unhealthy(err: unknown): void {
    if (this.#stopped) return
    this.#failing = true
    this.#opts.onHealth?.(err instanceof Error ? err : new Error(String(err)), this.#answeredAt)
    this.#settleAttempts(true)
  }
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string }).name === 'AbortError'
}
