import type { ArchiveWriter } from './archive-repository.js'

const BATCH = 500

/**
 * Archive TTL (spec §6.2 step 4), run by the leader at once and then every period (upstream waits a whole
 * period first, which users took for a broken GC: lessons §2). Rows go in batches of 500 so no statement holds
 * many row locks or runs long; other writers skip nothing, readers are never blocked.
 */
export class ArchiveGc {
  #timer: NodeJS.Timeout | undefined
  #running = false
  #leader = false

  constructor(
    private readonly writer: ArchiveWriter,
    private ttlSeconds: number,
    private readonly periodMs: number,
    private readonly log: (msg: string) => void,
  ) {}

  setLeader(leader: boolean): void {
    this.#leader = leader
    clearInterval(this.#timer)
    this.#timer = undefined
    if (!leader || !this.ttlSeconds) return
    void this.run()
    this.#timer = setInterval(() => void this.run(), this.periodMs)
  }

  /** A new TTL (the configmap changed): a leader applies it at once. */
  setTtl(seconds: number): void {
    if (seconds === this.ttlSeconds) return
    this.ttlSeconds = seconds
    if (this.#leader) this.setLeader(true)
  }

  /** @returns rows deleted */
  async run(): Promise<number> {
    if (this.#running) return 0
    this.#running = true
    let total = 0
    try {
      for (;;) {
        const n = await this.writer.deleteExpired(this.ttlSeconds, BATCH)
        total += n
        if (n < BATCH) break
      }
      if (total) this.log(`archive: deleted ${total} archived workflows older than ${this.ttlSeconds} s`)
    } catch (err) {
      this.log(`archive: TTL deletion failed, next try in ${this.periodMs / 1000} s: ${(err as Error).message}`)
    } finally {
      this.#running = false
    }
    return total
  }
}
