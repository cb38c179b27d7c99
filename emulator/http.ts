/** Small HTTP helpers: JSON responses, Status errors, request bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { load } from 'js-yaml'
import { ApiError, errors } from './status.js'
import { isProtobuf, protobufToJson } from './protobuf.js'

const MAX_BODY = 64 * 1024 * 1024

export function sendJson(resp: ServerResponse, code: number, body: unknown): void {
  if (resp.headersSent || resp.destroyed) return
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  resp.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' })
  resp.end(text)
}

/** Streams JSON text chunks (a large list) with chunked encoding, waiting for slow clients rather than buffering it all. */
export async function sendJsonChunks(resp: ServerResponse, code: number, chunks: Iterable<string>): Promise<void> {
  if (resp.headersSent || resp.destroyed) return
  resp.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' })
  for (const c of chunks) {
    if (resp.destroyed) return
    if (!resp.write(c)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          resp.off('drain', done)
          resp.off('close', done)
          resolve()
        }
        resp.on('drain', done)
        resp.on('close', done)
      })
    }
  }
  resp.end()
}

export function sendError(resp: ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err))
  if (resp.headersSent) {
    resp.destroy()
    return
  }
  sendJson(resp, e.code, e.toStatus())
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 67108864'))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Parses a request body as JSON, or YAML when the content type says so. Empty body → undefined. */
export function parseBody(buf: Buffer, contentType: string | undefined): unknown {
  if (isProtobuf(contentType)) return protobufToJson(buf)
  const text = buf.toString('utf8')
  if (text.trim() === '') return undefined
  if (contentType && /yaml/i.test(contentType)) {
    try {
      return load(text)
    } catch (err) {
      throw errors.badRequest(`error converting YAML to JSON: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw errors.badRequest(`error decoding request body: ${err instanceof Error ? err.message : String(err)}`)
  }
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name)
  return v === 'true' || v === '1'
}
