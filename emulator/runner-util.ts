// Pure helpers for the simulated workflow controller: naming, JSON narrowing, parameter substitution.

export type Rec = Record<string, unknown>

export const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)
export const rec = (v: unknown): Rec => (isRec(v) ? v : {})
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
export const recs = (v: unknown): Rec[] => arr(v).filter(isRec)
export const str = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}
export const strs = (v: unknown): string[] => arr(v).map((x) => str(x) ?? JSON.stringify(x))

// Node IDs and pod names are shared with the server, whose retry deletes the pods of re-run nodes.
export { fnv32a, nodeId, podName } from '../src/lib/node-names.js'

/** RFC 3339 with second precision, as metav1.Time serialises. */
export const isoNow = (d = new Date()): string => d.toISOString().replace(/\.\d+Z$/, 'Z')

export type Scope = Map<string, string>

/** Replaces `{{key}}` with scope values; unknown keys (steps.x.outputs…, expressions) stay verbatim. */
export function substitute(s: string, scope: Scope): string {
  return s.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (m, key: string) => scope.get(key) ?? m)
}

export function substituteDeep(v: unknown, scope: Scope): unknown {
  if (typeof v === 'string') return substitute(v, scope)
  if (Array.isArray(v)) return v.map((x) => substituteDeep(x, scope))
  if (isRec(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substituteDeep(x, scope)]))
  return v
}

const scalar = (v: unknown): string => str(v) ?? JSON.stringify(v)

/** How upstream renders an item inside a node name: `a`, `3`, or `k1:v1,k2:v2` for maps. */
export function itemLabel(item: unknown): string {
  if (isRec(item)) return Object.keys(item).sort().map((k) => `${k}:${scalar(item[k])}`).join(',')
  return scalar(item)
}

export function itemScope(item: unknown, base: Scope): Scope {
  const scope = new Map(base)
  scope.set('item', scalar(item))
  if (isRec(item)) for (const [k, v] of Object.entries(item)) scope.set(`item.${k}`, scalar(v))
  return scope
}

/** withItems / withParam / withSequence → the list of items, or undefined when the step is not a loop. */
export function expandItems(step: Rec, scope: Scope): unknown[] | undefined {
  if (Array.isArray(step.withItems)) return substituteDeep(step.withItems, scope) as unknown[]
  if (step.withParam !== undefined) {
    const raw = substitute(str(step.withParam) ?? '', scope)
    try {
      const parsed: unknown = JSON.parse(raw)
      if (Array.isArray(parsed)) return parsed
    } catch {
      // an unresolved output reference: we never compute outputs, so run it once
    }
    return [raw.includes('{{') ? 'item' : raw]
  }
  if (isRec(step.withSequence)) {
    const seq = rec(substituteDeep(step.withSequence, scope))
    const num = (v: unknown): number | undefined => (str(v) === undefined ? undefined : Number(str(v)))
    const start = num(seq.start) ?? 0
    const count = num(seq.count)
    const end = count !== undefined ? start + count - 1 : (num(seq.end) ?? start)
    const items: string[] = []
    const fmt = str(seq.format)
    const step1 = end >= start ? 1 : -1
    for (let i = start; step1 > 0 ? i <= end : i >= end; i += step1) {
      if (items.length >= 1000) break
      items.push(fmt ? fmt.replace(/%(0?)(\d*)d/, (_m, z: string, w: string) => String(i).padStart(Number(w || 0), z ? '0' : ' ')) : String(i))
    }
    return count === 0 ? [] : items
  }
  return undefined
}

const unquote = (s: string): string => s.trim().replace(/^(['"`])(.*)\1$/s, '$2')

/** Evaluates an already-substituted `when`; undefined = cannot tell (unresolved refs, expressions), so run. */
export function evalWhen(expr: string): boolean | undefined {
  const e = expr.trim()
  if (e === '' || e.includes('{{')) return undefined
  if (/^true$/i.test(e)) return true
  if (/^false$/i.test(e)) return false
  const m = /^([^=!<>&|()]*?)\s*(==|!=)\s*([^=!<>&|()]*)$/.exec(e)
  if (!m) return undefined
  const same = unquote(m[1] ?? '') === unquote(m[3] ?? '')
  return m[2] === '==' ? same : !same
}

/** Shell words of one command, quotes removed; undefined when output is redirected away from stdout. */
function shellWords(segment: string): string[] | undefined {
  const words: string[] = []
  for (const m of segment.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    if (m[3] !== undefined && /^\d?>/.test(m[3]) && !/^>&2$|^2>/.test(m[3])) return undefined
    words.push(m[1] ?? m[2] ?? m[3] ?? '')
  }
  return words
}

const PRINTERS = new Set(['echo', 'cowsay', 'whalesay', 'printf'])

function printed(words: string[]): string | undefined {
  const cmd = (words[0] ?? '').split('/').pop() ?? ''
  if (!PRINTERS.has(cmd)) return undefined
  const rest = words.slice(1).filter((w, i) => !(i === 0 && /^-[neE]+$/.test(w)))
  return rest.join(' ').replace(/\\n$/, '')
}

function shellLines(script: string): string[] {
  const out: string[] = []
  for (const seg of script.split(/\n|;|&&|\|\|/)) {
    const words = shellWords(seg.trim())
    const line = words && printed(words)
    if (line !== undefined) out.push(...line.split('\\n'))
  }
  return out
}

function codeLines(source: string): string[] {
  const out: string[] = []
  for (const raw of source.split('\n')) {
    const m = /(?:^|\s|;)(?:print|console\.log)\((.*)\)\s*;?\s*$/.exec(raw)
    if (m) {
      const inner = (m[1] ?? '').trim()
      const lit = /^[fr]?(['"])(.*)\1$/s.exec(inner)
      out.push(lit ? (lit[2] ?? '') : inner)
    }
  }
  return out
}

export interface Program {
  lines: string[]
  exitCode: number
}

/** What a container "prints" and how it exits, guessed from its command line and script source. */
export function simulate(image: string, command: string[], args: string[], source?: string): Program {
  const argv = [...command, ...args]
  const text = [...argv, source ?? ''].join('\n')
  let exitCode = 0
  for (const m of text.matchAll(/\bexit\s+(\d+)|\b(?:sys\.|process\.)?exit\((\d+)\)/g)) {
    const n = Number(m[1] ?? m[2])
    if (n !== 0) {
      exitCode = n
      break
    }
  }
  const bin = (argv[0] ?? '').split('/').pop() ?? ''
  let lines: string[] = []
  if (source !== undefined) {
    lines = /^(sh|bash|ash|zsh)$/.test(bin) ? shellLines(source) : codeLines(source)
  } else if (/^(sh|bash|ash|zsh)$/.test(bin) && argv.includes('-c')) {
    lines = shellLines(argv.slice(argv.indexOf('-c') + 1).join(' '))
  } else if (/^(python\d?|node)$/.test(bin) && argv.includes('-c')) {
    lines = codeLines(argv.slice(argv.indexOf('-c') + 1).join('\n').replace(/;\s*/g, '\n'))
  } else {
    lines = printed(argv) !== undefined ? [printed(argv) ?? ''] : []
  }
  return { lines: lines.length > 0 ? lines : [`running ${image}`], exitCode }
}
