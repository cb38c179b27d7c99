/** Shared helpers for the emulator tests: raw HTTP calls and a line-by-line watch reader. */
import type { Emulator } from '../../emulator/index.js'

export interface ApiResponse {
  status: number
  headers: Headers
  text: string
  json: Record<string, unknown>
}

export interface CallOpts {
  body?: unknown
  token?: string | null // null = no Authorization header
  contentType?: string
  accept?: string
  rawBody?: string
}

export async function call(emu: Emulator, method: string, path: string, opts: CallOpts = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {}
  const token = opts.token === undefined ? emu.adminToken : opts.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (opts.accept) headers.accept = opts.accept
  let body: string | undefined
  if (opts.rawBody !== undefined) body = opts.rawBody
  else if (opts.body !== undefined) body = JSON.stringify(opts.body)
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json'
  const res = await fetch(emu.url + path, { method, headers, body })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    // not JSON (logs): leave empty
  }
  return { status: res.status, headers: res.headers, text, json }
}

export interface WatchEvent {
  type: string
  object: Record<string, unknown> & { metadata?: Record<string, unknown> }
}

/** An open watch: `next()` resolves with the next event, or `undefined` once the stream has ended. */
export class WatchStream {
  readonly #events: WatchEvent[] = []
  readonly #waiters: ((e: WatchEvent | undefined) => void)[] = []
  readonly #abort = new AbortController()
  ended = false
  status = 0

  static async open(emu: Emulator, path: string, token = emu.adminToken): Promise<WatchStream> {
    const w = new WatchStream()
    const res = await fetch(emu.url + path, { headers: { authorization: `Bearer ${token}` }, signal: w.#abort.signal })
    w.status = res.status
    void w.#pump(res)
    return w
  }

  async #pump(res: Response): Promise<void> {
    let buf = ''
    const decoder = new TextDecoder()
    try {
      if (!res.body) return
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true })
        let i: number
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i)
          buf = buf.slice(i + 1)
          if (line.trim()) this.#push(JSON.parse(line) as WatchEvent)
        }
      }
    } catch {
      // aborted or reset: the stream has ended
    } finally {
      this.ended = true
      for (const w of this.#waiters.splice(0)) w(undefined)
    }
  }

  #push(e: WatchEvent): void {
    const w = this.#waiters.shift()
    if (w) w(e)
    else this.#events.push(e)
  }

  next(): Promise<WatchEvent | undefined> {
    const e = this.#events.shift()
    if (e) return Promise.resolve(e)
    if (this.ended) return Promise.resolve(undefined)
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** The next n events, failing if the stream ends first. */
  async take(n: number): Promise<WatchEvent[]> {
    const out: WatchEvent[] = []
    while (out.length < n) {
      const e = await this.next()
      if (!e) throw new Error(`watch ended after ${out.length} of ${n} events`)
      out.push(e)
    }
    return out
  }

  /** Resolves when the server ends the stream (events left unread are discarded). */
  async closed(): Promise<void> {
    while (await this.next()) {
      // discard
    }
  }

  close(): void {
    this.#abort.abort()
  }
}

export const WF = { group: 'argoproj.io', resource: 'workflows' }

export function wf(name: string, labels?: Record<string, string>): { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: Record<string, unknown> } {
  const metadata: { name: string; labels?: Record<string, string> } = { name }
  if (labels) metadata.labels = labels
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata, spec: { entrypoint: 'main' } }
}

export const WF_PATH = '/apis/argoproj.io/v1alpha1/namespaces/argo/workflows'

export function meta(o: Record<string, unknown> | undefined): Record<string, unknown> {
  const m = o?.metadata
  return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {}
}
