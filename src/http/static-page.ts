import type { FastifyReply, FastifyRequest } from 'fastify'

/** The headers upstream's static file server (server/static) puts on UI responses: never on /api/ (spec §8 flags). */
export interface StaticPageOptions {
  /** `--hsts`, and the server is secure: Strict-Transport-Security */
  hsts: boolean
  /** `--x-frame-options`; empty: none */
  xFrameOptions: string
  /** `--access-control-allow-origin`; empty: none */
  corsAllowOrigin: string
}

/** Upstream serves its UI for every non-API path; we serve a small page pointing at the API. */
const indexHtml = '<!doctype html><html><head><meta charset="utf-8"><title>Argo</title></head>' +
  '<body><h1>argo-server</h1><p>API: <a href="openapi.json">openapi.json</a></p></body></html>\n'

/** What upstream's FilesServer answers on a path that is not the API's, with its headers. */
export function staticPage(o: StaticPageOptions): (req: FastifyRequest, reply: FastifyReply) => void {
  return (req, reply) => {
    if (o.xFrameOptions) void reply.header('x-frame-options', o.xFrameOptions)
    if (o.corsAllowOrigin) {
      void reply.header('access-control-allow-origin', o.corsAllowOrigin)
      if (req.method === 'OPTIONS') {
        // A preflight: upstream answers it alone, 204 with these.
        void reply.code(204).headers({
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
          'access-control-allow-headers': 'Content-Type, Authorization',
        }).send()
        return
      }
    }
    void reply.header('content-security-policy', "default-src 'self' 'unsafe-inline'; img-src 'self' data:")
    if (o.hsts) void reply.header('strict-transport-security', 'max-age=31536000')
    void reply.code(200).type('text/html').send(indexHtml)
  }
}
