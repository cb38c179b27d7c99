/**
 * The metadata checks every write goes through in the apiserver (CRDs included): label keys and values, annotation
 * keys and their total size, finalizer names. As k8s.io/apimachinery/pkg/api/validation/objectmeta.go
 * (validateObjectMetaAccessorWithOptsCommon, ValidateAnnotations, ValidateFinalizers),
 * pkg/apis/meta/v1/validation (ValidateLabels) and pkg/util/validation (IsQualifiedName, IsValidLabelValue).
 */
import type { KubeObject } from './types.js'
import { ApiError } from './status.js'

export interface FieldError {
  field: string
  /** absent for a TooLong error (which shows no value) */
  value?: string
  message: string
}

const QNAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
const QNAME = new RegExp(`^${QNAME_FMT}$`)
const LABEL_VALUE_FMT = `(${QNAME_FMT})?`
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`)
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`)
const QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
const ANNOTATIONS_LIMIT = 256 * 1024

/** util/validation.RegexError: the message, its examples and the regex. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`
}

const maxLen = (n: number) => `must be no more than ${n} characters`

function dns1123Subdomain(v: string): string[] {
  const errs: string[] = []
  if (v.length > 253) errs.push(maxLen(253))
  if (!DNS1123_SUBDOMAIN.test(v)) errs.push(regexError(SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'))
  return errs
}

/** util/validation.IsQualifiedName */
export function qualifiedNameErrors(v: string): string[] {
  const errs: string[] = []
  const parts = v.split('/')
  let name: string
  if (parts.length === 1) name = parts[0] as string
  else if (parts.length === 2) {
    const prefix = parts[0] as string
    name = parts[1] as string
    if (!prefix) errs.push('prefix part must be non-empty')
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`))
  } else {
    return [`a qualified name ${regexError(QNAME_MSG, QNAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`]
  }
  if (!name) errs.push('name part must be non-empty')
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`)
  if (!QNAME.test(name)) errs.push(`name part ${regexError(QNAME_MSG, QNAME_FMT, 'MyName', 'my.name', '123-abc')}`)
  return errs
}

/** util/validation.IsValidLabelValue */
function labelValueErrors(v: string): string[] {
  const errs: string[] = []
  if (v.length > 63) errs.push(maxLen(63))
  if (!LABEL_VALUE.test(v)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'))
  return errs
}

/** Every problem with the object's labels, annotations and finalizers, in the apiserver's order. */
export function metadataErrors(obj: KubeObject): FieldError[] {
  const out: FieldError[] = []
  const m = obj.metadata
  const labels = (m.labels ?? {}) as Record<string, string>
  for (const [k, v] of Object.entries(labels)) {
    for (const msg of qualifiedNameErrors(k)) out.push({ field: 'metadata.labels', value: k, message: msg })
    for (const msg of labelValueErrors(v)) out.push({ field: 'metadata.labels', value: v, message: msg })
  }
  const annotations = (m.annotations ?? {}) as Record<string, string>
  let size = 0
  for (const [k, v] of Object.entries(annotations)) {
    // as ValidateAnnotations: a qualified name except that case does not matter
    for (const msg of qualifiedNameErrors(k.toLowerCase())) out.push({ field: 'metadata.annotations', value: k, message: msg })
    size += Buffer.byteLength(k) + Buffer.byteLength(v)
  }
  if (size > ANNOTATIONS_LIMIT) out.push({ field: 'metadata.annotations', message: `must have at most ${ANNOTATIONS_LIMIT} bytes` })
  const finalizers = Array.isArray(m.finalizers) ? m.finalizers : []
  for (const f of finalizers) {
    if (typeof f !== 'string') continue
    for (const msg of qualifiedNameErrors(f)) out.push({ field: 'metadata.finalizers', value: f, message: msg })
  }
  return out
}

/** The 422 of a write whose metadata fails `metadataErrors`, worded as errors.NewInvalid words a field.ErrorList. */
export function invalidMetadata(group: string, kind: string, name: string, errs: FieldError[]): ApiError {
  const body = (e: FieldError) => (e.value === undefined ? `Too long: ${e.message}` : `Invalid value: ${JSON.stringify(e.value)}: ${e.message}`)
  const parts = errs.map((e) => `${e.field}: ${body(e)}`)
  const message = `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`
  const causes = errs.map((e) => ({ reason: e.value === undefined ? 'FieldValueTooLong' : 'FieldValueInvalid', message: body(e), field: e.field }))
  return new ApiError(422, 'Invalid', message, { name, ...(group ? { group } : {}), kind, causes })
}
