import { compareStamps, type LogLine } from './lines.js'

const MAX_QUEUED_LINES = 10_000

/** One log entry as it goes out: `{"content","podName"}` (spec §2.8). */
export interface Entry {
  podName: string
  content: string
}

interface Queued extends LogLine {
  at: number // when it was queued, for the follow-mode linger
}

/** One pod's log as the merger sees it. */
export class Source {
  readonly podName: string
  readonly queue: Queued[] = []
  ended = false
  chars = 0
  /** called when the queue has room again (the LineSink waiting on it) */
  onRoom: () => void = () => {}

  constructor(podName: string) {
    this.podName = podName
  }
}

export interface MergerOptions {
  /**
   * Follow mode: an entry waits at most this long for a silent pod to speak before it goes out anyway (upstream
   * sorts in one-second batches, spec §2.8). Undefined: wait for every pod (exact order; logs that end).
   */
  lingerMs?: number
  /** characters queued per pod before its upstream read is paused */
  maxQueuedChars?: number
  emit(entry: Entry): void
  /** the client cannot take more now: entries wait (and readers pause) until pump() is called again */
  blocked?(): boolean
  /** every source ended and drained, and `seal()` was called */
  onDone(): void
}

/**
 * Merges pods' logs by timestamp. Each pod's log is in time order, so a k-way merge yields the global order while
 * holding at most a bounded queue per pod — where upstream buffers and sorts one-second batches. A pod that has
 * nothing queued yet holds the others back (it may still have earlier lines) until it ends or, when following,
 * until the linger expires.
 */
export class Merger {
  readonly #opts: MergerOptions
  readonly #maxChars: number
  readonly #sources: Source[] = []
  #sealed = false
  #done = false
  #timer: NodeJS.Timeout | undefined
  #pumping = false
  #again = false

  constructor(opts: MergerOptions) {
    this.#opts = opts
    this.#maxChars = opts.maxQueuedChars ?? 4 * 1024 * 1024
  }

  add(podName: string): Source {
    const s = new Source(podName)
    this.#sources.push(s)
    return s
  }

  push(s: Source, line: LogLine): void {
    s.queue.push({ ...line, at: Date.now() })
    s.chars += line.content.length
    this.pump()
  }

  end(s: Source): void {
    s.ended = true
    this.pump()
  }

  /** Is this source's queue full (its reader should pause)? */
  full(s: Source): boolean {
    return s.chars >= this.#maxChars || s.queue.length >= MAX_QUEUED_LINES
  }

  /** No more sources will be added: finish once the current ones are drained. */
  seal(): void {
    this.#sealed = true
    this.pump()
  }

  stop(): void {
    this.#done = true
    clearTimeout(this.#timer)
  }

  pump(): void {
    // emitting resumes readers, which may push synchronously: loop here rather than recurse
    if (this.#pumping) {
      this.#again = true
      return
    }
    this.#pumping = true
    try {
      do {
        this.#again = false
        this.#pumpOnce()
      } while (this.#again && !this.#done)
    } finally {
      this.#pumping = false
    }
  }

  #pumpOnce(): void {
    if (this.#done) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (;;) {
      if (this.#opts.blocked?.()) break
      let next: Source | undefined
      let blocked = false
      let oldest = Infinity
      for (const s of this.#sources) {
        const head = s.queue[0]
        if (!head) {
          if (!s.ended) blocked = true
          continue
        }
        oldest = Math.min(oldest, head.at)
        if (!next || compareStamps(head.stamp, (next.queue[0] as Queued).stamp) < 0) next = s
      }
      if (!next) break
      if (blocked) {
        const linger = this.#opts.lingerMs
        if (linger === undefined) break
        const wait = oldest + linger - Date.now()
        if (wait > 0) {
          this.#timer = setTimeout(() => this.pump(), wait)
          break
        }
      }
      const e = next.queue.shift() as Queued
      next.chars -= e.content.length
      if (!this.full(next)) next.onRoom()
      this.#opts.emit({ podName: next.podName, content: e.content })
      if (this.#done) return
    }
    // forget finished pods so a long follow does not accumulate them
    for (let i = this.#sources.length - 1; i >= 0; i--) {
      const s = this.#sources[i] as Source
      if (s.ended && !s.queue.length) this.#sources.splice(i, 1)
    }
    if (this.#sealed && !this.#sources.length) {
      this.#done = true
      this.#opts.onDone()
    }
  }
}
