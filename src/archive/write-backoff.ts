import { isUnreachable } from '../db/database.js'

/** Postgres could not be reached: told apart from Kubernetes' failures, whose causes carry the same ECONNREFUSED. */
export class DatabaseUnreachable extends Error {
  constructor(cause: unknown) {
    super((cause as Error).message, { cause })
  }
}

/** A database step's promise, its unreachable-database failures tagged as such. */
export const fromDatabase = <T>(p: Promise<T>): Promise<T> => p.catch((err: unknown) => {
  throw isUnreachable(err) ? new DatabaseUnreachable(err) : err
})

export interface WriteBackoffOptions {
  initialMs: number
  maxMs: number
  /** whether the database answers (ArchiveWriter.reachable) */
  reachable: () => Promise<boolean>
  /** called when dispatching may go on again: the wait is over, or the database answers again */
  resume: () => void
  log: (msg: string) => void
}

/**
 * The archiver's one wait while writes fail (not each item's): nothing is dispatched until it is over, then one
 * item probes; a probe's failure doubles it, a failure of a write already in flight does not, and a success ends it.
 */
export class WriteBackoff {
  readonly #o: WriteBackoffOptions
  /** the current wait; 0 while writes succeed */
  #backoff = 0
  /** nothing is dispatched before this time (ms) while writes fail */
  #retryAt = 0
  #retryTimer: NodeJS.Timeout | undefined
  /** the next check whether the unreachable database answers again (see #awaitDatabase) */
  #checking: NodeJS.Timeout | undefined
  #stopped = false

  constructor(o: WriteBackoffOptions) {
    this.#o = o
  }

  /** Whether writes are failing: dispatch one probe at a time. */
  get failing(): boolean {
    return this.#backoff > 0
  }

  /** Whether dispatching must wait; if so, resume() is called once the wait is over. */
  waiting(): boolean {
    const wait = this.#retryAt - Date.now()
    if (wait <= 0) return false
    this.#retryTimer ??= setTimeout(() => {
      this.#retryTimer = undefined
      this.#o.resume()
    }, wait)
    return true
  }

  succeeded(): void {
    if (this.#backoff) this.#o.log('archive: writing again')
    this.#backoff = 0
    this.#retryAt = 0
  }

  /** @returns the wait now in force (ms) */
  failed(err: unknown, probe: boolean): number {
    if (!this.#backoff) this.#backoff = this.#o.initialMs
    else if (probe) this.#backoff = Math.min(this.#o.maxMs, this.#backoff * 2)
    this.#retryAt = Math.max(this.#retryAt, Date.now() + this.#backoff)
    if (err instanceof DatabaseUnreachable) this.#awaitDatabase()
    return this.#backoff
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    clearTimeout(this.#checking)
  }

  /**
   * While the database is unreachable, a cheap check every second ends the wait as soon as it answers: a workflow
   * deleted before it could be held lives only in this replica's memory until written, so every second of waiting
   * after Postgres is back is a second in which a crash would lose it. Other failures (a database that answers but
   * refuses the write) wait the whole backoff.
   */
  #awaitDatabase(): void {
    if (this.#checking || this.#stopped) return
    this.#checking = setTimeout(() => void this.#o.reachable().then((up) => {
      this.#checking = undefined
      if (this.#stopped || this.#retryAt <= Date.now()) return
      if (!up) return this.#awaitDatabase()
      this.#retryAt = 0
      clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      this.#o.resume()
    }).catch((err: unknown) => this.#o.log(`archive: ${(err as Error).message}`)), 1_000)
    this.#checking.unref()
  }
}
