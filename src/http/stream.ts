import type { EventEmitter } from 'node:events'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { applyFields, parseFields, type FieldMask } from '../lib/fields.js'
import { asApiError } from './error-handler.js'
import { ApiError, GrpcCode, streamErrorBody } from './errors.js'
import { SharedFrames } from './shared-frames.js'
import { toWireJson } from './wire.js'

const crlf = Buffer.from('\r\n')

/** Frames of one event kept for masked clients: a handful of distinct `fields` masks. */
const MAX_FRAME_VARIANTS = 16

/** Snapshot frames shared by clients connecting together: at most 16 MiB, for at most 2 s. */
const snapshotFrames = new SharedFrames(16 * 1024 * 1024, 2_000)

/** The error a client too far behind is closed with. */
const tooSlow = () => new ApiError(GrpcCode.ResourceExhausted, 'the client is reading too slowly: stream closed')

/** Live events a client may have waiting behind a paced snapshot before it is closed. */
const MAX_HELD = 10_000

export interface StreamSettings {
  /** SSE comment heartbeat interval (upstream: 15 s) */
  heartbeatMs: number
  /** bytes a client may fall behind before it is closed with a stream error */
  maxBufferBytes: number
}

/**
 * One streaming response in upstream's framing (spec §3): newline-delimited `{"result":…}` by default, SSE exactly
 * when `Accept: text/event-stream`. Ours on top: a heartbeat comment, `X-Accel-Buffering: no`, `Cache-Control:
 * no-cache`, `id:` lines for resuming, and a bounded buffer per client.
 */
export class EventStream {
  readonly sse: boolean
  readonly #reply: FastifyReply
  readonly #log: FastifyBaseLogger
  readonly #settings: StreamSettings
  readonly #mask: FieldMask | undefined
  readonly #ids: boolean
  /** keys of this stream's frames in a HubEvent's cache (framing and mask), computed once: fan-out runs per client per event */
  readonly #framing: { plain: string; chunk: string }
  #opened = false
  #closed = false
  #heartbeat: NodeJS.Timeout | undefined
  #onClose: (() => void)[] = []
  /** shared sends waiting for a snapshot to go out (see sendSnapshot) */
  #held: (() => void)[] | undefined

  constructor(req: FastifyRequest, reply: FastifyReply, settings: StreamSettings) {
    this.sse = req.headers.accept === 'text/event-stream'
    this.#reply = reply
    this.#log = req.log
    this.#settings = settings
    // The forwarder applies `fields` to every chunk, whatever the endpoint (spec §2.3): read from the URL, since a
    // route's schema declares only upstream's parameters (WatchEvents' has no `fields`) and strips the rest.
    const fields = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length)).get('fields')
    this.#mask = parseFields(fields ?? undefined)
    // The argo CLI (Go's HTTP client) parses every SSE line longer than 6 bytes as data
    // (pkg/apiclient/http1/server-sent-events-client.go), so an `id:` line would break it.
    this.#ids = this.sse && !String(req.headers['user-agent'] ?? '').startsWith('Go-http-client/')
    const framing = `${this.sse ? (this.#ids ? 'sse-id' : 'sse') : 'ndjson'}${this.#mask ? ` ${fields ?? ''}` : ''}`
    this.#framing = { plain: framing, chunk: `chunk ${framing}` }
    reply.hijack()
    reply.raw.on('close', () => this.#finish())
  }

  get closed(): boolean {
    return this.#closed
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn()
    else this.#onClose.push(fn)
  }

  /** Sends the 200 and headers now (upstream sends them eagerly), starting the heartbeat. */
  open(): void {
    if (this.#opened || this.#closed) return
    this.#opened = true
    const headers: Record<string, string> = this.sse
      ? { 'content-type': 'text/event-stream', 'x-content-type-options': 'nosniff' }
      : { 'content-type': 'application/json' }
    this.#reply.raw.writeHead(200, { ...headers, 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
    this.#reply.raw.flushHeaders()
    if (this.sse) {
      this.#heartbeat = setInterval(() => this.#write(':\n'), this.#settings.heartbeatMs)
      this.#heartbeat.unref()
    }
  }

  /** Sends one `{"result":…}`; `id` (SSE only) lets a reconnecting client resume. False once closed. */
  send(result: unknown, id?: string): boolean {
    if (this.#closed) return false
    this.open()
    const chunk = this.#mask ? toWireJson(applyFields({ result }, this.#mask)) : `{"result":${toWireJson(result)}}`
    return this.#frame(chunk, id)
  }

  /**
   * Sends a snapshot (the results of `items`, only the last one carrying `lastId`) at the client's pace: each waits
   * until the client has taken most of what was written, so a snapshot larger than the buffer bound reaches a slow
   * reader instead of closing it. Shared sends made meanwhile (live events) wait, in order, and go out after it;
   * a client that falls more than MAX_HELD events behind meanwhile is closed, as one whose buffer fills.
   * Items `shared` says yes to have their frames built once for all the clients connecting at about the same time:
   * such an item must always give the same result.
   */
  sendSnapshot<T extends object>(items: readonly T[], resultJson: (item: T) => string | Promise<string>, lastId: string, shared?: (item: T) => boolean): void {
    this.#held = []
    const send = async () => {
      for (const [i, item] of items.entries()) {
        const last = i === items.length - 1
        await this.#writable()
        if (this.#closed) return
        this.open()
        // Without an await between this lookup and the write below, a cached frame is the one written.
        const frames = !last && shared?.(item) ? snapshotFrames.of(item) : undefined
        const json = frames?.has(this.#variant()) ? undefined : await resultJson(item)
        if (this.#closed) return
        if (frames) this.#writeShared(json, undefined, frames, (bytes) => snapshotFrames.added(bytes))
        else this.#write(this.#text(this.#chunk(json ?? ''), last ? lastId : undefined))
      }
    }
    void send().catch((err: unknown) => {
      this.fail(err)
    }).finally(() => {
      const held = this.#held ?? []
      this.#held = undefined
      for (const sendHeld of held) sendHeld()
    })
  }

  /** A result in wire form as this stream frames it: `{"result":…}`, or masked by `fields`. */
  #chunk(resultJson: string): string {
    return this.#mask ? toWireJson(applyFields({ result: JSON.parse(resultJson) as unknown }, this.#mask)) : `{"result":${resultJson}}`
  }

  /**
   * Whether the client has more than a quarter of the bound still to take: a sender that sets its own pace (a
   * snapshot, a log) waits for onDrain rather than write more and be closed as a slow reader.
   */
  get congested(): boolean {
    // Without a socket nothing would signal a drain: not congested (the write buffers in the response).
    return !this.#closed && this.#reply.raw.socket != null && this.#reply.raw.writableLength > this.#settings.maxBufferBytes / 4
  }

  /** Calls `fn` once the client has taken what was buffered (or the stream closed). */
  onDrain(fn: () => void): void {
    // Over HTTP/2 the response's bytes wait in its stream (the connection's socket drains for every stream).
    const sink = (this.#reply.raw as { stream?: EventEmitter }).stream ?? this.#reply.raw.socket
    if (!sink || this.#closed) return fn()
    const done = () => {
      sink.off('drain', done)
      sink.off('close', done)
      fn()
    }
    sink.once('drain', done)
    sink.once('close', done)
  }

  /** Resolves when the stream is no longer congested, or has closed. */
  async #writable(): Promise<void> {
    while (this.congested) await new Promise<void>((resolve) => this.onDrain(resolve))
  }

  /**
   * Sends an event many clients receive, already in wire form: the frame is built once per framing (NDJSON, SSE,
   * SSE with id) and cached in `frames`, so fan-out costs one socket write per client.
   */
  sendShared(resultJson: string, id: string, frames: Map<string, Buffer>): boolean {
    if (this.#closed) return false
    if (this.#held) {
      if (this.#held.length >= MAX_HELD) {
        this.fail(tooSlow())
        return false
      }
      this.#held.push(() => this.sendShared(resultJson, id, frames))
      return true
    }
    this.open()
    this.#writeShared(resultJson, id, frames)
    // A response's writableLength includes what its socket still holds.
    return this.#checkBuffer(this.#reply.raw.writableLength)
  }

  /** This stream's key in a frames cache: with chunked encoding, the cached frame holds the chunk header too. */
  #variant(): string {
    const res = this.#reply.raw
    const raw = (res as unknown as { chunkedEncoding?: boolean }).chunkedEncoding === true && res.socket?.writable === true
    return raw ? this.#framing.chunk : this.#framing.plain
  }

  /**
   * Writes a result's frame from `frames`, building (and caching) it from `resultJson` if no stream of this framing
   * has yet; `resultJson` may be left out only when the frame is known to be cached.
   */
  #writeShared(resultJson: string | undefined, id: string | undefined, frames: Map<string, Buffer>, onBuilt?: (bytes: number) => void): void {
    // With chunked encoding the frame goes straight to the socket: ServerResponse.write re-frames every write,
    // which dominates when one event goes to 1,000 clients.
    const variant = this.#variant()
    const raw = variant === this.#framing.chunk
    let frame = frames.get(variant)
    if (!frame) {
      if (resultJson === undefined) throw ApiError.internal(`stream: no frame for ${variant}`)
      const body = Buffer.from(this.#text(this.#chunk(resultJson), id))
      frame = raw ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, crlf]) : body
      // Masked frames are cached per mask (the UI's clients all send the same one), up to a few masks per event:
      // clients each sending a mask of their own must not multiply what the hub's history holds.
      if (!this.#mask || frames.size < MAX_FRAME_VARIANTS) {
        frames.set(variant, frame)
        onBuilt?.(frame.length)
      }
    }
    if (raw) this.#reply.raw.socket?.write(frame)
    else this.#write(frame)
  }

  #text(chunk: string, id: string | undefined): string {
    return this.sse ? `${id && this.#ids ? `id: ${id}\n` : ''}data: ${chunk} \n\n\n` : `${chunk}\n`
  }

  #frame(chunk: string, id: string | undefined): boolean {
    return this.#push(this.#text(chunk, id))
  }

  #push(data: string | Buffer): boolean {
    this.#write(data)
    // A response's writableLength includes what its socket still holds.
    return this.#checkBuffer(this.#reply.raw.writableLength)
  }

  #checkBuffer(buffered: number): boolean {
    if (buffered > this.#settings.maxBufferBytes) {
      this.fail(tooSlow())
      return false
    }
    return !this.#closed
  }

  /**
   * Ends the stream with an error: before any byte with the status of its code, after with an `{"error":…}` chunk
   * (the status is already 200). Spec §3. An unexpected error is "internal error" to the client, its detail logged,
   * as the error handler does for unary calls.
   */
  fail(error: unknown): void {
    if (this.#closed) return
    const err = asApiError(error)
    if (err.code === GrpcCode.Internal) this.#log.error({ err: err.cause ?? error }, `stream failed: ${err.message}`)
    const body = toWireJson({ error: streamErrorBody(err) })
    if (!this.#opened) {
      this.#opened = true
      const type = this.sse ? 'text/event-stream' : 'application/json'
      this.#reply.raw.writeHead(err.httpStatus, { 'content-type': type, 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
    }
    this.#reply.raw.end(this.sse ? `data: ${body} \n\n` : body)
    this.#finish()
  }

  /**
   * Ends the stream cleanly after `listOptions.timeoutSeconds`, as the Kubernetes watch upstream passes it to
   * does; 0 or none: never.
   */
  endAfter(seconds: number | undefined): void {
    if (!seconds || seconds <= 0) return
    const timer = setTimeout(() => this.end(), seconds * 1000)
    this.onClose(() => clearTimeout(timer))
  }

  end(): void {
    if (this.#closed) return
    this.open()
    this.#reply.raw.end()
    this.#finish()
  }

  #write(data: string | Buffer): void {
    if (!this.#closed) this.#reply.raw.write(data)
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#heartbeat)
    for (const fn of this.#onClose.splice(0)) {
      try {
        fn()
      } catch {
        // a subscriber's cleanup must not break the others'
      }
    }
    if (!this.#reply.raw.writableEnded) this.#reply.raw.destroy()
  }
}
