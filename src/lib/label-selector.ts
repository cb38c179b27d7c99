import { InputError } from './input-error.js'
/**
 * Kubernetes label selectors, following k8s.io/apimachinery/pkg/labels/selector.go.
 * Pure: no I/O, no imports. Shared by the server and the Kubernetes API emulator.
 */

export type Operator = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | '>' | '<'

export interface Requirement {
  key: string
  operator: Operator
  values: string[]
}

export class LabelSelectorError extends InputError {
  override name = 'LabelSelectorError'
}

type TokenKind = 'id' | 'in' | 'notin' | '!' | '!=' | '=' | '==' | '>' | '<' | '(' | ')' | ',' | 'eos'
interface Token { kind: TokenKind; text: string }

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<'])
const TWO_CHAR = new Set(['!=', '=='])

function lex(s: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < s.length) {
    const ch = s[i] as string
    if (/\s/.test(ch)) { i++; continue }
    if (SPECIAL.has(ch)) {
      const two = s.slice(i, i + 2)
      if (TWO_CHAR.has(two)) {
        out.push({ kind: two as TokenKind, text: two })
        i += 2
      } else {
        out.push({ kind: ch as TokenKind, text: ch })
        i++
      }
      continue
    }
    let j = i
    while (j < s.length && !SPECIAL.has(s[j] as string) && !/\s/.test(s[j] as string)) j++
    const text = s.slice(i, j)
    out.push({ kind: text === 'in' ? 'in' : text === 'notin' ? 'notin' : 'id', text })
    i = j
  }
  out.push({ kind: 'eos', text: '' })
  return out
}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const NAME_MSG = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
const VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

/** Errors for a qualified name (label key), empty when valid. */
export function validateLabelKey(key: string): string[] {
  const errs: string[] = []
  const parts = key.split('/')
  let name = key
  if (parts.length === 2) {
    const prefix = parts[0] as string
    name = parts[1] as string
    if (prefix.length === 0) errs.push('prefix part must be non-empty')
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters')
    else if (!DNS1123_SUBDOMAIN_RE.test(prefix)) errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (name.length > 63) errs.push('name part must be no more than 63 characters')
  else if (!NAME_RE.test(name)) errs.push(NAME_MSG)
  return errs
}

/** Errors for a label value, empty when valid. */
export function validateLabelValue(value: string): string[] {
  const errs: string[] = []
  if (value.length > 63) errs.push('must be no more than 63 characters')
  if (value !== '' && !NAME_RE.test(value)) errs.push(VALUE_MSG)
  return errs
}

function invalid(path: string, value: string, msgs: string[]): never {
  throw new LabelSelectorError(`unable to parse requirement: ${path}: Invalid value: ${JSON.stringify(value)}: ${msgs.join('; ')}`)
}

/** One requirement, validated as apimachinery's labels.NewRequirement validates it. @throws LabelSelectorError */
export function labelRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const keyErrs = validateLabelKey(key)
  if (keyErrs.length > 0) invalid('key', key, keyErrs)
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) throw new LabelSelectorError('unable to parse requirement: values: Invalid value: []: for \'in\', \'notin\' operators, values set can\'t be empty')
      break
    case '=': case '==': case '!=':
      if (values.length !== 1) throw new LabelSelectorError('unable to parse requirement: values: Invalid value: []: exact-match compatibility requires one single value')
      break
    case 'exists': case '!':
      if (values.length !== 0) throw new LabelSelectorError('unable to parse requirement: values: Invalid value: []: values set must be empty for exists and does not exist')
      break
    case '>': case '<':
      if (values.length !== 1) throw new LabelSelectorError("unable to parse requirement: values: Invalid value: []: for 'Gt', 'Lt' operators, exactly one value is required")
      // strconv.ParseInt(v, 10, 64), as apimachinery: digits within int64 (the archive compares them as bigint).
      if (!isInt64(values[0] as string)) invalid('values[0]', values[0] as string, ["for 'Gt', 'Lt' operators, the value must be an integer"])
      break
  }
  values.forEach((v, i) => {
    const errs = validateLabelValue(v)
    if (errs.length > 0) invalid(`values[${i}][${key}]`, v, errs)
  })
  return { key, operator, values: operator === 'in' || operator === 'notin' ? [...new Set(values)].sort() : values }
}

class Parser {
  #pos = 0
  constructor(private readonly toks: Token[]) {}
  peek(): Token { return this.toks[this.#pos] as Token }
  next(): Token { return this.toks[this.#pos++] as Token }

  parse(): Requirement[] {
    const reqs: Requirement[] = []
    if (this.peek().kind === 'eos') return reqs
    for (;;) {
      const t = this.peek()
      if (t.kind !== 'id' && t.kind !== '!') throw new LabelSelectorError(`found '${t.text}', expected: !, identifier, or 'end of string'`)
      reqs.push(this.requirement())
      const after = this.next()
      if (after.kind === 'eos') break
      if (after.kind !== ',') throw new LabelSelectorError(`found '${after.text}', expected: ',' or 'end of string'`)
      const n = this.peek()
      if (n.kind !== 'id' && n.kind !== '!') throw new LabelSelectorError(`found '${n.text}', expected: identifier after ','`)
    }
    return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  requirement(): Requirement {
    let t = this.next()
    if (t.kind === '!') {
      t = this.next()
      if (t.kind !== 'id') throw new LabelSelectorError(`found '${t.text}', expected: identifier`)
      return labelRequirement(t.text, '!', [])
    }
    const key = t.text
    const n = this.peek()
    if (n.kind === 'eos' || n.kind === ',') return labelRequirement(key, 'exists', [])
    const op = this.next()
    switch (op.kind) {
      case 'in': case 'notin':
        return labelRequirement(key, op.kind, this.valueSet())
      case '=': case '==': case '!=': case '>': case '<': {
        const v = this.peek()
        if (v.kind === 'eos' || v.kind === ',') return labelRequirement(key, op.kind, [''])
        if (v.kind !== 'id') throw new LabelSelectorError(`found '${v.text}', expected: identifier`)
        this.next()
        return labelRequirement(key, op.kind, [v.text])
      }
      default:
        throw new LabelSelectorError(`found '${op.text}', expected: in, notin, =, ==, !=, gt, lt`)
    }
  }

  valueSet(): string[] {
    const open = this.next()
    if (open.kind !== '(') throw new LabelSelectorError(`found '${open.text}', expected: '('`)
    if (this.peek().kind === ')') {
      this.next()
      return ['']
    }
    const values: string[] = []
    for (;;) {
      const t = this.peek()
      if (t.kind === 'id') {
        this.next()
        values.push(t.text)
        const sep = this.next()
        if (sep.kind === ')') return values
        if (sep.kind !== ',') throw new LabelSelectorError(`found '${sep.text}', expected: ',' or ')'`)
        if (this.peek().kind === ')') { this.next(); values.push(''); return values }
      } else if (t.kind === ',') {
        // an empty value between commas, as apimachinery accepts
        this.next()
        values.push('')
        if (this.peek().kind === ')') { this.next(); values.push(''); return values }
      } else {
        throw new LabelSelectorError(`found '${t.text}', expected: ',', ')' or identifier`)
      }
    }
  }
}

/** Parses a label selector string; '' selects everything. Throws LabelSelectorError on bad syntax. */
export function parseLabelSelector(s: string): Requirement[] {
  return new Parser(lex(s)).parse()
}

function toInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined
  const n = Number(s)
  return Number.isFinite(n) ? n : undefined
}

export function matchesRequirement(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key)
  const v = has ? (labels as Record<string, string>)[r.key] as string : undefined
  switch (r.operator) {
    case 'in': case '=': case '==':
      return v !== undefined && r.values.includes(v)
    case 'notin': case '!=':
      return v === undefined || !r.values.includes(v)
    case 'exists':
      return v !== undefined
    case '!':
      return v === undefined
    case '>': case '<': {
      if (v === undefined) return false
      const lv = toInt(v)
      const rv = toInt(r.values[0] ?? '')
      if (lv === undefined || rv === undefined) return false
      return r.operator === '>' ? lv > rv : lv < rv
    }
  }
}

/** True when every requirement matches (an empty list matches everything). */
export function matchesLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  for (const r of reqs) if (!matchesRequirement(r, labels)) return false
  return true
}

/** The canonical string form of a requirement, as Requirement.String() in apimachinery. */
export function formatRequirement(r: Requirement): string {
  switch (r.operator) {
    case '!': return `!${r.key}`
    case 'exists': return r.key
    case 'in': case 'notin': return `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`
    default: return `${r.key}${r.operator}${r.values[0] ?? ''}`
  }
}

export function formatLabelSelector(reqs: Requirement[]): string {
  return reqs.map(formatRequirement).join(',')
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function isInt64(v: string): boolean {
  if (!/^[+-]?\d+$/.test(v)) return false
  const n = BigInt(v)
  return n >= INT64_MIN && n <= INT64_MAX
}
