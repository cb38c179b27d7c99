import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isSecure } from '../../http/tls.js'
import type { Sso } from './sso.js'

/**
 * `/oauth2/*`: not under /api and not in upstream's swagger (spec §1 "Routes not in swagger"). Without SSO,
 * redirect and callback answer 501 with an empty body (server/auth/sso/null_sso.go, e2e TestOauth).
 */
export function oauth2Routes(app: FastifyInstance, sso: Sso | undefined, opts: { baseHref: string; redirectUrl: string }): void {
  const hide = { schema: { hide: true } }
  if (!sso) {
    const none = async (_req: FastifyRequest, reply: FastifyReply) => reply.code(501).send('')
    app.get('/oauth2/redirect', hide, none)
    app.get('/oauth2/callback', hide, none)
    app.post('/oauth2/logout', hide, none)
    return
  }
  const proto = (req: FastifyRequest) => (isSecure(req) ? 'https' : 'http')
  const ctx = (req: FastifyRequest) => ({ secure: isSecure(req) })
  const redirectUri = (req: FastifyRequest) => {
    if (opts.redirectUrl) return opts.redirectUrl
    const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? '').split(',')[0]?.trim()
    return `${proto(req)}://${host}${opts.baseHref}oauth2/callback`
  }
  const query = (req: FastifyRequest) => new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '')

  app.get('/oauth2/redirect', hide, async (req, reply) => {
    const { location, cookie } = await sso.begin(query(req).get('redirect') ?? undefined, redirectUri(req), ctx(req))
    return reply.header('set-cookie', cookie).redirect(location, 302)
  })
  app.get('/oauth2/callback', hide, async (req, reply) => {
    const { location, cookies } = await sso.finish(query(req), req.headers.cookie, ctx(req))
    return reply.header('set-cookie', cookies).redirect(location, 302)
  })
  app.post('/oauth2/logout', hide, async (req, reply) => {
    const { location, cookies } = await sso.logout(req.headers.cookie, ctx(req))
    void reply.header('set-cookie', cookies).header('cache-control', 'no-store')
    // 303: a form POST becomes a GET of the provider's end-session page; without one, back to the UI.
    return reply.redirect(location ?? opts.baseHref, 303)
  })
}
