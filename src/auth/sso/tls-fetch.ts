import { request } from 'node:https'

/**
 * A fetch for the provider when the configmap sets `rootCA` or `insecureSkipVerify` (spec §5.3): Node's global
 * fetch takes no CA, so this goes through node:https. Only what openid-client sends: GET/POST, small bodies.
 */
export function tlsFetch(opts: { ca?: string; insecureSkipVerify: boolean }) {
  return (url: string, init: { method?: string; headers?: Record<string, string> | Headers; body?: unknown; signal?: AbortSignal | null }): Promise<Response> =>
    new Promise((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers as ConstructorParameters<typeof Headers>[0]).entries())
      const body = init.body instanceof URLSearchParams ? init.body.toString()
        : typeof init.body === 'string' || init.body instanceof Uint8Array ? init.body : undefined
      const req = request(url, {
        method: init.method ?? 'GET',
        headers,
        ca: opts.ca || undefined,
        rejectUnauthorized: !opts.insecureSkipVerify,
        signal: init.signal ?? undefined,
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const h = new Headers()
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v)
          resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: h }))
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
}
