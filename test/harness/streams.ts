import net from 'node:net'
import type { Stack } from './stack.js'

/** A streaming response read incrementally, keeping every byte, for byte-exact assertions. */
export class StreamReader {
  raw = ''
  done = false
  /** the body broke off (a connection cut mid-body), rather than ending or being closed by the test */
  cut = false
  readonly #abort = new AbortController()
  constructor(readonly status: number, readonly headers: Headers, body: ReadableStream<Uint8Array> | null, abort: AbortController) {
    this.#abort = abort
    void this.#pump(body)
  }

  async #pump(body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (!body) { this.done = true; return }
    const reader = body.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        this.raw += decoder.decode(value, { stream: true })
      }
    } catch {
      this.cut = !this.#abort.signal.aborted
    }
    this.done = true
  }

  /** Waits until `test(raw)` holds; fails after `ms` with what arrived. */
  async until(test: (raw: string) => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms
    while (!test(this.raw)) {
      if (Date.now() > end) throw new Error(`stream never satisfied the condition; got:\n${this.raw.slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  async ended(ms = 10_000): Promise<void> {
    await this.until(() => this.done, ms)
  }

  /** The `{"result":…}` / `{"error":…}` messages, parsed from NDJSON or SSE framing. */
  messages(): { result?: Record<string, unknown>; error?: Record<string, unknown> }[] {
    const sse = (this.headers.get('content-type') ?? '').startsWith('text/event-stream')
    const lines = this.raw.split('\n')
    // The last piece is incomplete unless the stream has ended (an error chunk has no trailing newline).
    if (!this.done) lines.pop()
    const chunks = sse
      ? lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6))
      : lines.filter((l) => l.trim())
    return chunks.map((c) => JSON.parse(c) as { result?: Record<string, unknown> })
  }

  close(): void {
    this.#abort.abort()
  }
}

export async function openStream(s: Stack, path: string, init: { sse?: boolean; token?: string | null; headers?: Record<string, string> } = {}): Promise<StreamReader> {
  const abort = new AbortController()
  const headers: Record<string, string> = { ...(init.headers ?? {}) }
  if (init.sse) headers.accept = 'text/event-stream'
  const res = await s.req(path, { headers, token: init.token, signal: abort.signal })
  return new StreamReader(res.status, res.headers, res.body, abort)
}

/** Watch events as `TYPE name` strings, for compact assertions. */
export function watchEvents(r: StreamReader): string[] {
  return r.messages().flatMap((m) => {
    const res = m.result as { type?: string; object?: { metadata?: { name?: string } } } | undefined
    return res ? [`${res.type} ${res.object?.metadata?.name}`] : []
  })
}

/** `p`, or a failure naming `what` when it has not settled within `ms` (a response that never comes). */
export function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms) })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/** A client on a raw socket that reads nothing for `pauseMs` after its request, then everything. */
export function pausingClient(s: Stack, path: string, pauseMs: number) {
  const url = new URL(s.url)
  const socket = net.connect(Number(url.port), url.hostname)
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.emulator.adminToken}\r\n\r\n`)
  socket.pause()
  let received = ''
  setTimeout(() => {
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => { received += d })
    socket.resume()
  }, pauseMs)
  return {
    get received() { return received },
    close: () => socket.destroy(),
    async until(what: string, test: (r: string) => boolean, ms = 30_000) {
      const end = Date.now() + ms
      while (!test(received)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
  }
}
