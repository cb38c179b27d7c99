import { StringDecoder } from 'node:string_decoder'
import { Writable } from 'node:stream'

/** Upstream splits lines longer than this (scanLinesOrGiveLong, spec §2.8) so one line cannot exhaust memory. */
export const MAX_LINE = 1024 * 1024

/** A log line's sort key: seconds since the epoch and nanoseconds, as Go's time.Time compares. */
export interface Stamp {
  s: number
  ns: number
}

export function compareStamps(a: Stamp, b: Stamp): number {
  return a.s - b.s || a.ns - b.ns
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

/** Parses an RFC 3339 timestamp with up to nanosecond precision (kubelet's RFC3339Nano), or undefined. */
export function parseStamp(text: string): Stamp | undefined {
  const m = RFC3339.exec(text)
  if (!m) return undefined
  const ms = Date.parse(`${m[1] as string}${m[3] as string}`)
  if (Number.isNaN(ms)) return undefined
  return { s: Math.floor(ms / 1000), ns: Number((m[2] ?? '').padEnd(9, '0')) }
}

export function nowStamp(): Stamp {
  const ms = Date.now()
  return { s: Math.floor(ms / 1000), ns: (ms % 1000) * 1e6 }
}

/** One line of a pod's log, its timestamp split off (spec §2.8). */
export interface LogLine {
  stamp: Stamp
  content: string
}

/**
 * Splits a line read with `timestamps=true` as upstream: an unparsable timestamp → now, content the whole line; a
 * timestamp alone → empty content; `keepTimestamp` (the client asked for timestamps) → content is the whole line.
 * `continuing`: the line is a later piece of one cut at MAX_LINE, whole content, with the time of its first piece
 * (upstream: now), so the pieces of a line stay together.
 */
export function splitLine(line: string, keepTimestamp: boolean, continuing?: Stamp): LogLine {
  if (continuing) return { stamp: continuing, content: line }
  const sp = line.indexOf(' ')
  const stamp = parseStamp(sp < 0 ? line : line.slice(0, sp))
  if (!stamp) return { stamp: nowStamp(), content: line }
  return { stamp, content: keepTimestamp ? line : sp < 0 ? '' : line.slice(sp + 1) }
}

/**
 * A Writable a pod log is piped into: decodes UTF-8 across chunks, cuts lines (dropping a trailing `\r`, as Go's
 * ScanLines), and hands each to `onLine`. While `paused()` is true the write callback waits for `resume()`, so a
 * reader that falls behind slows the upstream log read (TCP backpressure) instead of buffering it.
 */
export class LineSink extends Writable {
  readonly #decoder = new StringDecoder('utf8')
  readonly #onLine: (line: string, continued: boolean) => void
  readonly #paused: () => boolean
  readonly #settle: (() => Promise<void> | undefined) | undefined
  #partial = ''
  /** pieces of the line being read have gone out already (it is longer than MAX_LINE) */
  #cut = false
  #waiting: (() => void) | undefined

  /** `settle`, after each chunk's lines: work on them (a grep) that the next chunk waits for. */
  /** `onLine` gets each line, or piece of one cut at MAX_LINE, with whether it continues the one before */
  constructor(onLine: (line: string, continued: boolean) => void, paused: () => boolean, settle?: () => Promise<void> | undefined) {
    super({ decodeStrings: true })
    this.#onLine = onLine
    this.#paused = paused
    this.#settle = settle
  }

  resume(): void {
    const cb = this.#waiting
    this.#waiting = undefined
    cb?.()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#take(this.#decoder.write(chunk))
    this.#then(() => {
      if (this.#paused()) this.#waiting = () => cb()
      else cb()
    }, cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#take(this.#decoder.end())
    if (this.#partial) this.#emit(this.#partial)
    this.#partial = ''
    this.#cut = false
    this.#then(() => cb(), cb)
  }

  /** Runs `next` once the settle work of the lines taken so far is done, synchronously when there is none. */
  #then(next: () => void, fail: (err: Error) => void): void {
    const settling = this.#settle?.()
    if (settling) settling.then(next, fail)
    else next()
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#waiting = undefined
    cb(err)
  }

  #take(text: string): void {
    const buf = this.#partial + text
    let start = 0
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
      // an over-long line is cut into MAX_LINE pieces, the last piece ending at the newline
      for (; nl - start > MAX_LINE; start += MAX_LINE) this.#piece(buf.slice(start, start + MAX_LINE))
      this.#emit(buf.slice(start, nl))
      start = nl + 1
    }
    for (; buf.length - start >= MAX_LINE; start += MAX_LINE) this.#piece(buf.slice(start, start + MAX_LINE))
    this.#partial = buf.slice(start)
  }

  #piece(text: string): void {
    this.#onLine(text, this.#cut)
    this.#cut = true
  }

  /** The end of a line: its last piece, or all of it. */
  #emit(line: string): void {
    this.#onLine(line.endsWith('\r') ? line.slice(0, -1) : line, this.#cut)
    this.#cut = false
  }
}
