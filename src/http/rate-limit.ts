import type { FastifyInstance, FastifyRequest } from 'fastify'

export interface RateLimitOptions {
  /** tokens per second per client; 0: no limit (ours) */
  perSecond: number
  /** IP_KEY_FUNC_HEADERS: headers whose value, when present, names the client instead of its address */
  keyHeaders: readonly string[]
}

const SECOND = 1000

/** Go's time.RFC1123 of a UTC time, as httplimit writes the reset time: `Tue, 24 Nov 2026 07:31:15 UTC`. */
const rfc1123 = (ms: number) => new Date(ms).toUTCString().replace(/GMT$/, 'UTC')

function clientKey(req: FastifyRequest, headers: readonly string[]): string {
  for (const h of headers) {
    const v = req.headers[h]
    const value = Array.isArray(v) ? v[0] : v
    if (value) return value
  }
  return req.socket.remoteAddress ?? ''
}

/**
 * Upstream's rate limit (spec §7.4: go-limiter's memory store behind its httplimit middleware, in front of every
 * route): each client takes a token per request from `perSecond` that come back whole every second. Every answer
 * carries X-RateLimit-Limit, -Remaining and -Reset; without a token, 429 `Too Many Requests` in text with Retry-After,
 * before authentication or any other work, so a flood (an HTTP/2 client resetting streams as fast as it opens them)
 * costs little.
 */
export function installRateLimit(app: FastifyInstance, opts: RateLimitOptions): void {
  if (opts.perSecond <= 0) return
  const buckets = new Map<string, { second: number; left: number }>()
  let resetOf = { second: -1, text: '' }
  // Buckets of past seconds are full again: forgotten, so the map holds only this second's clients.
  const sweep = setInterval(() => {
    const now = Math.floor(Date.now() / SECOND)
    for (const [k, b] of buckets) if (b.second < now) buckets.delete(k)
  }, 10 * SECOND)
  sweep.unref()
  app.addHook('onClose', async () => clearInterval(sweep))
  app.addHook('onRequest', async (req, reply) => {
    const key = clientKey(req, opts.keyHeaders)
    const second = Math.floor(Date.now() / SECOND)
    let b = buckets.get(key)
    if (!b || b.second !== second) buckets.set(key, (b = { second, left: opts.perSecond }))
    const allowed = b.left > 0
    if (allowed) b.left--
    // Formatted once a second, not once a request.
    if (resetOf.second !== second) resetOf = { second, text: rfc1123((second + 1) * SECOND) }
    const reset = resetOf.text
    // On the raw response, so streams (which write their own head) carry them too, as upstream's do.
    reply.raw.setHeader('X-RateLimit-Limit', String(opts.perSecond))
    reply.raw.setHeader('X-RateLimit-Remaining', String(b.left))
    reply.raw.setHeader('X-RateLimit-Reset', reset)
    if (allowed) return
    reply.raw.setHeader('Retry-After', reset)
    // Go's http.Error: text, nosniff, the status text and a newline.
    return reply.code(429).header('content-type', 'text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send('Too Many Requests\n')
  })
}
