import { ApiException } from '@kubernetes/client-node'
import { ApiError, GrpcCode, grpcCodeOfHttp } from '../http/errors.js'

interface StatusBody { message?: unknown; reason?: unknown; code?: unknown }

function parseBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body)
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : undefined
    } catch {
      return undefined
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : undefined
}

const reasonCodes: Record<string, GrpcCode> = {
  NotFound: GrpcCode.NotFound,
  AlreadyExists: GrpcCode.AlreadyExists,
  Conflict: GrpcCode.AlreadyExists,
  Invalid: GrpcCode.InvalidArgument,
  BadRequest: GrpcCode.FailedPrecondition,
  Unauthorized: GrpcCode.Unauthenticated,
  Forbidden: GrpcCode.PermissionDenied,
  Timeout: GrpcCode.DeadlineExceeded,
  ServiceUnavailable: GrpcCode.Unavailable,
  Expired: GrpcCode.InvalidArgument,
  Gone: GrpcCode.InvalidArgument,
}

/**
 * Client mistakes the apiserver reports as plain errors (500, no reason): etcd's store refuses a create that carries
 * a resourceVersion, kept "to help users not submit data that they sourced incorrectly" (kubernetes#62836), e.g. a
 * workflow posted back as `get` returned it. Upstream passes the 500 on; the request is at fault, so 400 here.
 */
const CLIENT_FAULTS = new Set(['resourceVersion should not be set on objects to be created'])

/** An apiserver answer that is not a success: its Status body's message and reason, else its HTTP code. */
export function statusError(code: number, body: unknown, cause?: unknown): ApiError {
  const status = parseBody(body)
  const message = typeof status?.message === 'string' && status.message
    ? status.message
    : code === 401 ? 'Unauthorized' : `kubernetes API error ${code}`
  const reason = typeof status?.reason === 'string' ? reasonCodes[status.reason] : undefined
  if (code === 500 && !reason && CLIENT_FAULTS.has(message)) return new ApiError(GrpcCode.InvalidArgument, message, { cause })
  return new ApiError(reason ?? grpcCodeOfHttp(code), message, { cause })
}

/**
 * The one place a Kubernetes failure becomes an ApiError: the apiserver's message is kept verbatim and its
 * reason or HTTP code mapped as upstream's `TranslateError`/`ToStatusError` (spec §4).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof ApiException) {
    return statusError(typeof err.code === 'number' ? err.code : 500, err.body, err)
  }
  if (connectionFailure(err)) return apiUnavailable(err)
  // Not the apiserver's answer (a bug, a client library failure): its text is for the log (the cause), not the caller.
  return ApiError.internal('internal error', err)
}

/**
 * The Kubernetes API not answering. The error's own text names the API's address (`request to https://10.0.0.1:443/…
 * failed`, `connect ECONNREFUSED 10.0.0.1:443`): an internal address, for the server's log (the cause), not the caller.
 */
export function apiUnavailable(err: unknown): ApiError {
  return new ApiError(GrpcCode.Unavailable, `the Kubernetes API is unavailable: ${connectionFailure(err) ?? 'the connection failed'}`, { cause: err })
}

/** What failed when the API could not be reached (`ECONNREFUSED`, `no answer in time`): never its address. */
export function connectionFailure(err: unknown): string | undefined {
  const e = err as { code?: unknown; name?: unknown; type?: unknown } | undefined
  if (!e || !(e.type === 'system' || e.name === 'FetchError' || e.name === 'AbortError')) return undefined
  return typeof e.code === 'string' ? e.code : e.name === 'AbortError' ? 'no answer in time' : 'the connection failed'
}
