/**
 * The one error type services throw, and its translation to upstream's wire shape.
 * Contract: shared/docs/argo-server-api.md §4 (grpc-gateway v1 `HTTPStatusFromCode`).
 */

export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode]

const httpByCode: Record<number, number> = {
  0: 200, 1: 408, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403,
  8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

const statusText: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
}

export function httpStatusOf(code: number): number {
  return httpByCode[code] ?? 500
}

export function httpStatusText(status: number): string {
  return statusText[status] ?? 'Error'
}

/** Maps an HTTP status (e.g. a Kubernetes Status code) to a gRPC code, as upstream's `ToStatusError`. */
export function grpcCodeOfHttp(status: number): GrpcCode {
  switch (status) {
    case 400: return GrpcCode.InvalidArgument
    case 401: return GrpcCode.Unauthenticated
    case 403: return GrpcCode.PermissionDenied
    case 404: return GrpcCode.NotFound
    case 408: return GrpcCode.Canceled
    case 409: return GrpcCode.AlreadyExists
    case 429: return GrpcCode.ResourceExhausted
    case 501: return GrpcCode.Unimplemented
    case 503: return GrpcCode.Unavailable
    case 504: return GrpcCode.DeadlineExceeded
    default:
      return status >= 400 && status < 500 ? GrpcCode.InvalidArgument : GrpcCode.Internal
  }
}

export class ApiError extends Error {
  readonly code: GrpcCode
  constructor(code: GrpcCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ApiError'
    this.code = code
  }

  get httpStatus(): number {
    return httpStatusOf(this.code)
  }

  static invalidArgument(message: string): ApiError {
    return new ApiError(GrpcCode.InvalidArgument, message)
  }
  static notFound(message = 'not found'): ApiError {
    return new ApiError(GrpcCode.NotFound, message)
  }
  static alreadyExists(message: string): ApiError {
    return new ApiError(GrpcCode.AlreadyExists, message)
  }
  static permissionDenied(message: string): ApiError {
    return new ApiError(GrpcCode.PermissionDenied, message)
  }
  static unauthenticated(message: string): ApiError {
    return new ApiError(GrpcCode.Unauthenticated, message)
  }
  static unimplemented(message = 'Not Implemented'): ApiError {
    return new ApiError(GrpcCode.Unimplemented, message)
  }
  static unavailable(message: string): ApiError {
    return new ApiError(GrpcCode.Unavailable, message)
  }
  static internal(message: string, cause?: unknown): ApiError {
    return new ApiError(GrpcCode.Internal, message, { cause })
  }
}

/** Upstream's 401 when no auth mode accepts the request (spec §5.1). */
export const TOKEN_NOT_VALID = 'token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/'

/** The unary error body: `{"code":n,"message":…}` (spec §4: no `error` key, `details` only when non-empty). */
export function errorBody(err: ApiError): { code: number; message: string } {
  return { code: err.code, message: err.message }
}

/** The stream error object (swagger `grpc.gateway.runtime.StreamError`). */
export function streamErrorBody(err: ApiError): Record<string, unknown> {
  const status = err.httpStatus
  return { grpc_code: err.code, http_code: status, message: err.message, http_status: httpStatusText(status) }
}

/** True when `err` is Kubernetes' NotFound (as translated by src/kube). */
export function isNotFound(err: unknown): boolean {
  return hasCode(err, GrpcCode.NotFound)
}

/** For `.catch`: nothing where the caller may not look (PermissionDenied), any other error thrown on. */
export function unlessDenied(err: unknown): undefined {
  if (hasCode(err, GrpcCode.PermissionDenied)) return undefined
  throw err
}

/** Whether `err` is an ApiError of this code (a Kubernetes answer is one once kube/errors.ts translated it). */
export function hasCode(err: unknown, code: GrpcCode): boolean {
  return err instanceof ApiError && err.code === code
}
