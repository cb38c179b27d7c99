import { InputError } from './input-error.js'
/**
 * Kubernetes field selectors (k8s.io/apimachinery/pkg/fields): comma-ANDed `field=value`, `field==value`,
 * `field!=value`, with backslash escapes. Pure; shared by the server and the Kubernetes API emulator.
 */
export interface FieldRequirement {
  field: string
  op: '=' | '!='
  value: string
}

export class FieldSelectorError extends InputError {
  override name = 'FieldSelectorError'
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1')
}

/** Splits on separators not preceded by a backslash. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + (s[i + 1] as string)
      i++
    } else if (ch === sep) {
      out.push(cur)
      cur = ''
    } else {
      cur += ch
    }
  }
  out.push(cur)
  return out
}

/** @throws FieldSelectorError with the apiserver's wording, for bad syntax or a field not in `allowed` */
export function parseFieldSelector(s: string, allowed: ReadonlySet<string>): FieldRequirement[] {
  const reqs: FieldRequirement[] = []
  if (s.trim() === '') return reqs
  for (const term of splitUnescaped(s, ',')) {
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term)
    if (!m) throw new FieldSelectorError(`invalid selector: '${s}'; can't understand '${term}'`)
    const field = (m[1] as string).trim()
    if (!allowed.has(field)) throw new FieldSelectorError(`field label not supported: ${field}`)
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3] as string) })
  }
  return reqs
}

/** `value(field)` gives an object's value for a selectable field ('' when absent). */
export function matchesFields(reqs: readonly FieldRequirement[], value: (field: string) => string): boolean {
  for (const r of reqs) if ((value(r.field) === r.value) !== (r.op === '=')) return false
  return true
}
