import type { FastifyInstance } from 'fastify'
import { jsonValueEnd } from '../lib/json-value-end.js'
import { ApiError } from './errors.js'

/**
 * Bodies are JSON whatever the Content-Type (upstream registers its one marshaler for `*\/*`, spec §2.1).
 * An empty body is an empty message; invalid JSON is 400 code 3; the size limit applies before authentication;
 * bytes after the first JSON value are ignored, as Go's decoder ignores them.
 */
export function installJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (!text.trim()) return done(null, {})
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      // Go's json.Decoder reads the first value and ignores what follows (spec §2.1): `{…} trailing` is `{…}`.
      // Looked for only once JSON.parse has refused the whole, so a valid body costs no extra pass.
      const end = jsonValueEnd(text)
      try {
        if (end < 0 || end === text.length) throw e
        parsed = JSON.parse(text.slice(0, end))
      } catch {
        return done(ApiError.invalidArgument((e as Error).message), undefined)
      }
    }
    // `null` decodes into a Go struct as nothing at all: an empty message.
    if (parsed === null) return done(null, {})
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      return done(ApiError.invalidArgument(`json: cannot unmarshal ${Array.isArray(parsed) ? 'array' : typeof parsed} into the request message`), undefined)
    }
    done(null, parsed)
  })
  // A POST or PUT with no body at all never reaches a parser: it is an empty message too (the UI PUTs /suspend so).
  app.addHook('preValidation', async (req) => {
    if ((req.method === 'POST' || req.method === 'PUT') && (req.body === undefined || req.body === null)) req.body = {}
  })
}
