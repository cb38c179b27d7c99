import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InputError } from '../lib/input-error.js'
import { ApiError, GrpcCode, errorBody, grpcCodeOfHttp } from './errors.js'
import { toWireJson } from './wire.js'

/** Any thrown value becomes an ApiError; unexpected ones keep their detail in the log only. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof InputError) return ApiError.invalidArgument(err.message)
  const fe = err as Partial<FastifyError> & { validationContext?: string }
  if (fe?.validation) return ApiError.invalidArgument(fe.message ?? 'invalid request')
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError(GrpcCode.ResourceExhausted, 'request body too large')
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(grpcCodeOfHttp(fe.statusCode), fe.message ?? 'bad request')
  }
  return ApiError.internal('internal error', err)
}

/**
 * The one place errors are written in the contract's shape `{"code","message"}` (spec §4). Never a stack. A Buffer:
 * a reply of frameworkErrors runs no hooks, so app.ts's onSend cannot drop the charset fastify adds to a string.
 */
function sendError(reply: FastifyReply, err: ApiError): void {
  void reply.code(err.httpStatus).type('application/json').send(Buffer.from(toWireJson(errorBody(err))))
}

export function installErrorHandler(app: FastifyInstance, staticPage: (req: FastifyRequest, reply: FastifyReply) => void): void {
  app.setErrorHandler((err, request, reply) => {
    const apiErr = asApiError(err)
    if (apiErr.httpStatus >= 500) request.log.error({ err: apiErr.cause ?? err }, apiErr.message)
    sendError(reply, apiErr)
  })
  // Unmatched /api/ paths and methods are 501 code 12, never 404/405 (grpc-gateway v1, spec §2.1).
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/')) return sendError(reply, ApiError.unimplemented())
    staticPage(request, reply)
  })
}

/** The router's bound on one path parameter (maxParamLength): upstream has none, but a URL has a size limit anyway. */
export const MAX_PARAM_LENGTH = 4096

/**
 * Fastify's router errors (a URL that does not decode, a path parameter over `maxParamLength`), written in the
 * contract's shape rather than Fastify's own `{"error","statusCode"}` (options.frameworkErrors).
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, ApiError.invalidArgument(err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : 'the URL is not valid'))
}

/**
 * Requests Node's parser rejects before any route (headers over the size limit: 431; malformed: 400), in the
 * contract's shape (options.clientErrorHandler; Fastify's default writes its own shape).
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer (Node's own handling, as Fastify's default).
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, reason, message] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'request headers too large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'request timeout'] : [400, 'Bad Request', 'malformed request']
  const body = toWireJson(errorBody(status === 408 ? new ApiError(GrpcCode.DeadlineExceeded, message) : ApiError.invalidArgument(message)))
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
