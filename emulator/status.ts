/** metav1.Status errors, worded as k8s.io/apimachinery/pkg/api/errors words them. */

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: { reason?: string; message?: string; field?: string }[]
}

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  /** a list's metadata: only the continue token of an expired paged list (etcd3 handleCompactedErrorForPaging) */
  metadata: { continue?: string }
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: StatusDetails
  code: number
}

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusDetails, readonly continueToken?: string) {
    super(message)
  }

  toStatus(): StatusBody {
    const s: Omit<StatusBody, 'code'> = { kind: 'Status', apiVersion: 'v1', metadata: this.continueToken ? { continue: this.continueToken } : {}, status: 'Failure', message: this.message }
    if (this.reason) s.reason = this.reason // StatusReasonUnknown ("") is omitted
    if (this.details) s.details = this.details
    return { ...s, code: this.code }
  }
}

/** 'workflows.argoproj.io', or 'pods' for the core group. */
export function qualified(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource
}

function details(group: string, resource: string, name?: string): StatusDetails {
  const d: StatusDetails = {}
  if (name) d.name = name
  if (group) d.group = group
  d.kind = resource
  return d
}

export const errors = {
  notFound: (group: string, resource: string, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(group, resource)} "${name}" not found`, details(group, resource, name)),
  alreadyExists: (group: string, resource: string, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(group, resource)} "${name}" already exists`, details(group, resource, name)),
  conflict: (group: string, resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`, details(group, resource, name)),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  invalid: (group: string, kind: string, name: string, causes: { field: string; message: string; value?: unknown }[]) => {
    const gk = group ? `${kind}.${group}` : kind
    const parts = causes.map((c) => `${c.field}: ${c.value === undefined ? 'Required value' : `Invalid value: ${JSON.stringify(c.value)}`}: ${c.message}`)
    const msg = `${gk} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`
    const d: StatusDetails = { name, kind }
    if (group) d.group = group
    d.causes = causes.map((c) => ({
      reason: c.value === undefined ? 'FieldValueRequired' : 'FieldValueInvalid',
      message: `${c.value === undefined ? 'Required value' : `Invalid value: ${JSON.stringify(c.value)}`}: ${c.message}`,
      field: c.field,
    }))
    return new ApiError(422, 'Invalid', msg, d)
  },
  forbidden: (group: string, resource: string, name: string | undefined, why: string) =>
    new ApiError(403, 'Forbidden', `${qualified(group, resource)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, details(group, resource, name)),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  notFoundPath: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  methodNotAllowed: (verb: string) => new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${verb})`, {}),
  unsupportedMediaType: (accepted: readonly string[]) => new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
  /** etcd3 store's Create: a plain error, so a 500 with no reason (a version that does not parse is let through) */
  resourceVersionOnCreate: () => new ApiError(500, '', 'resourceVersion should not be set on objects to be created'),
  expired: (message: string) => new ApiError(410, 'Expired', message),
  timeout: (message: string) => new ApiError(504, 'Timeout', message),
  internal: (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
}

const REASONS: Record<number, [string, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'forbidden: injected fault'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  409: ['Conflict', 'the server reported a conflict'],
  410: ['Expired', 'the resource version is too old'],
  422: ['Invalid', 'the server rejected our request due to an error in our request'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
}

/** A generic error of the given HTTP code, as NewGenericServerResponse would word it (used by fault injection). */
export function genericError(code: number): ApiError {
  const [reason, message] = REASONS[code] ?? ['Unknown', `an error on the server ("injected fault") has prevented the request from succeeding`]
  return new ApiError(code, reason, message)
}
