import type { FastifyRequest } from 'fastify'
import { pino, type Logger } from 'pino'
import { logrusText } from '../lib/logrus-text.js'

/**
 * What a request log line says about the request: never headers (Authorization, Cookie), and no query on
 * /oauth2/ URLs, where the callback's `code` and `state` travel (§8: secrets never logged; upstream masks them,
 * CHANGELOG acfb73a39).
 */
export function requestLogFields(req: FastifyRequest): Record<string, unknown> {
  const url = req.url.startsWith('/oauth2/') ? req.url.replace(/\?.*$/s, '') : req.url
  return { method: req.method, url, remoteAddress: req.ip }
}

export interface LogOptions {
  level: string
  /** `--log-format`: logrus's text lines (upstream's default) or JSON lines */
  format: 'text' | 'json'
  /** where lines go (tests); default standard output */
  stream?: { write(line: string): void }
}

/** The server's one logger, the app's (requests) and everything else's, so every line has one format. */
export function createLogger(o: LogOptions): Logger {
  const out = o.stream ?? process.stdout
  const destination = o.format === 'text' ? { write: (line: string) => void out.write(logrusText(line)) } : o.stream
  return pino({ level: o.level, serializers: { req: requestLogFields } }, destination)
}
