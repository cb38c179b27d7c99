import type { FastifyRequest } from 'fastify'

/**
 * What a request log line says about the request: never headers (Authorization, Cookie), and no query on
 * /oauth2/ URLs, where the callback's `code` and `state` travel (§8: secrets never logged; upstream masks them,
 * CHANGELOG acfb73a39).
 */
export function requestLogFields(req: FastifyRequest): Record<string, unknown> {
  const url = req.url.startsWith('/oauth2/') ? req.url.replace(/\?.*$/s, '') : req.url
  return { method: req.method, url, remoteAddress: req.ip }
}
