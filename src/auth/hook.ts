import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiError } from '../http/errors.js'
import { isSecure } from '../http/tls.js'
import type { Gatekeeper } from './gatekeeper.js'
import type { Identity } from './identity.js'

declare module 'fastify' {
  interface FastifyRequest {
    identityResult: { identity: Identity } | { error: unknown } | undefined
  }
  interface FastifyContextConfig {
    /** a streaming route: authentication errors are written in the stream format */
    stream?: boolean
  }
}

/**
 * Authenticates every /api/ request before its handler. Unary routes fail here with 401; streaming routes read
 * the outcome with `identityOf` and report it in the stream's error format (spec §3). Unknown routes are 501
 * before any authentication, as upstream's gateway answers them.
 */
export function installAuthentication(app: FastifyInstance, gatekeeper: Gatekeeper): void {
  app.decorateRequest('identityResult', undefined)
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404 || !req.url.startsWith('/api/')) return
    try {
      const namespace = (req.params as { namespace?: unknown } | undefined)?.namespace
      req.identityResult = {
        identity: await gatekeeper.authenticate(req.headers.authorization, req.headers.cookie, {
          namespace: typeof namespace === 'string' ? namespace : undefined,
          secure: isSecure(req),
          setCookie: (c) => void reply.header('set-cookie', c),
        }),
      }
    } catch (error) {
      req.identityResult = { error }
      if (!req.routeOptions.config.stream) throw error
    }
  })
}

export function identityOf(req: FastifyRequest): Identity {
  const r = req.identityResult
  if (!r) throw ApiError.unauthenticated('no identity')
  if ('error' in r) throw r.error
  return r.identity
}
