/**
 * A small, safe evaluator for SSO RBAC rules (spec §5.4): the boolean subset of expr-lang that upstream's docs
 * use — `'admins' in groups`, `email == "a@b.c"`, `&&`/`and`, `||`/`or`, `!`/`not`, `not in`, parentheses,
 * `==` `!=` `<` `<=` `>` `>=`, `startsWith` `endsWith` `contains` `matches`, `a.b`, `a[0]`, `[x, y]`,
 * `len()` `lower()` `upper()`, string, number, bool and nil literals. No eval, no property access beyond
 * own data properties, no loops. Compiled once per rule; a rule that does not parse is an Error.
 */
export type Value = string | number | boolean | null | undefined | Value[] | { [k: string]: Value }
type Node = (env: Record<string, Value>) => Value

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|([A-Za-z_$][\w$]*)|(==|!=|<=|>=|&&|\|\||[!<>()[\].,]))/y
const KEYWORDS = new Set(['in', 'not', 'and', 'or', 'true', 'false', 'nil', 'matches', 'contains', 'startsWith', 'endsWith'])
const FUNCS: Record<string, (v: Value) => Value> = {
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  lower: (v) => (typeof v === 'string' ? v.toLowerCase() : v),
  upper: (v) => (typeof v === 'string' ? v.toUpperCase() : v),
}

type Tok = { kind: 'num' | 'str' | 'id' | 'op'; text: string; value?: Value }

function tokenize(src: string): Tok[] {
  const out: Tok[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break
    const at = TOKEN.lastIndex
    const m = TOKEN.exec(src)
    if (!m) throw new Error(`unexpected character at ${at}: ${src.slice(at, at + 10)}`)
    if (m[1] !== undefined) out.push({ kind: 'num', text: m[1], value: Number(m[1]) })
    else if (m[2] !== undefined) out.push({ kind: 'str', text: m[2], value: unquote(m[2]) })
    else if (m[3] !== undefined) out.push({ kind: KEYWORDS.has(m[3]) ? 'op' : 'id', text: m[3] })
    else out.push({ kind: 'op', text: m[4] as string })
  }
  return out
}

function unquote(s: string): string {
  const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r' }
  return s.slice(1, -1).replace(/\\(.)/g, (_, c: string) => esc[c] ?? c)
}

const equal = (a: Value, b: Value): boolean => (a ?? null) === (b ?? null)
const str = (v: Value): string | undefined => (typeof v === 'string' ? v : undefined)
/** ordering only between two numbers or two strings; anything else is false */
const cmp = (a: Value, b: Value, ok: (c: number) => boolean): boolean =>
  ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) && ok(a < b ? -1 : a > b ? 1 : 0)

function member(obj: Value, key: Value): Value {
  if (Array.isArray(obj) && typeof key === 'number') return obj[key < 0 ? obj.length + key : key]
  if (obj && typeof obj === 'object' && !Array.isArray(obj) && typeof key === 'string' && Object.hasOwn(obj, key)) return obj[key]
  return undefined
}

const BINARY: Record<string, { prec: number; fn: (a: Value, b: Value) => Value }> = {
  '||': { prec: 1, fn: () => false }, or: { prec: 1, fn: () => false },
  '&&': { prec: 2, fn: () => false }, and: { prec: 2, fn: () => false },
  '==': { prec: 3, fn: equal }, '!=': { prec: 3, fn: (a, b) => !equal(a, b) },
  '<': { prec: 3, fn: (a, b) => cmp(a, b, (c) => c < 0) }, '<=': { prec: 3, fn: (a, b) => cmp(a, b, (c) => c <= 0) },
  '>': { prec: 3, fn: (a, b) => cmp(a, b, (c) => c > 0) }, '>=': { prec: 3, fn: (a, b) => cmp(a, b, (c) => c >= 0) },
  in: { prec: 3, fn: (a, b) => (Array.isArray(b) ? b.some((x) => equal(x, a)) : b && typeof b === 'object' && typeof a === 'string' ? Object.hasOwn(b, a) : false) },
  contains: { prec: 3, fn: (a, b) => str(a) !== undefined && str(b) !== undefined && (a as string).includes(b as string) },
  startsWith: { prec: 3, fn: (a, b) => str(a) !== undefined && str(b) !== undefined && (a as string).startsWith(b as string) },
  endsWith: { prec: 3, fn: (a, b) => str(a) !== undefined && str(b) !== undefined && (a as string).endsWith(b as string) },
}

class Parser {
  #i = 0
  constructor(private readonly toks: Tok[]) {}

  parse(): Node {
    const n = this.#expr(0)
    if (this.#i < this.toks.length) throw new Error(`unexpected "${this.toks[this.#i]?.text}"`)
    return n
  }

  #peek(): Tok | undefined { return this.toks[this.#i] }
  #take(text?: string): Tok {
    const t = this.toks[this.#i++]
    if (!t || (text !== undefined && t.text !== text)) throw new Error(`expected ${text ?? 'more'}, got ${t ? `"${t.text}"` : 'end of rule'}`)
    return t
  }

  #expr(minPrec: number): Node {
    let left = this.#unary()
    for (;;) {
      const t = this.#peek()
      if (!t || t.kind !== 'op') return left
      let op = t.text
      if (op === 'not' && this.toks[this.#i + 1]?.text === 'in') op = 'not in'
      const def = op === 'not in' ? BINARY.in : op === 'matches' ? { prec: 3, fn: () => false } : BINARY[op]
      if (!def || def.prec <= minPrec) return left
      this.#i += op === 'not in' ? 2 : 1
      if (op === 'matches') {
        const pat = this.#take()
        if (pat.kind !== 'str') throw new Error('matches needs a string literal')
        const re = new RegExp(pat.value as string)
        const l = left
        left = (env) => { const v = l(env); return typeof v === 'string' && re.test(v) }
        continue
      }
      const l = left
      const r = this.#expr(def.prec)
      if (op === '||' || op === 'or') left = (env) => l(env) === true || r(env) === true
      else if (op === '&&' || op === 'and') left = (env) => l(env) === true && r(env) === true
      else if (op === 'not in') left = (env) => !def.fn(l(env), r(env))
      else left = (env) => def.fn(l(env), r(env))
    }
  }

  #unary(): Node {
    const t = this.#peek()
    if (t?.text === '!' || t?.text === 'not') {
      this.#i++
      const n = this.#unary()
      return (env) => n(env) !== true
    }
    return this.#postfix(this.#primary())
  }

  #postfix(node: Node): Node {
    for (let t = this.#peek(); t && (t.text === '.' || t.text === '['); t = this.#peek()) {
      this.#i++
      const base = node
      if (t.text === '.') {
        const name = this.#take().text
        node = (env) => member(base(env), name)
      } else {
        const idx = this.#expr(0)
        this.#take(']')
        node = (env) => member(base(env), idx(env))
      }
    }
    return node
  }

  #primary(): Node {
    const t = this.#take()
    if (t.kind === 'num' || t.kind === 'str') return () => t.value
    if (t.text === 'true' || t.text === 'false') { const b = t.text === 'true'; return () => b }
    if (t.text === 'nil') return () => null
    if (t.text === '(') { const n = this.#expr(0); this.#take(')'); return n }
    if (t.text === '[') {
      const items: Node[] = []
      while (this.#peek()?.text !== ']') {
        items.push(this.#expr(0))
        if (this.#peek()?.text === ',') this.#i++
        else break
      }
      this.#take(']')
      return (env) => items.map((n) => n(env))
    }
    if (t.kind === 'id') {
      const fn = FUNCS[t.text]
      if (fn && this.#peek()?.text === '(') {
        this.#i++
        const arg = this.#expr(0)
        this.#take(')')
        return (env) => fn(arg(env))
      }
      const name = t.text
      return (env) => (Object.hasOwn(env, name) ? env[name] : undefined)
    }
    throw new Error(`unexpected "${t.text}"`)
  }
}

/** Compiles a rule into a predicate over the claims; only `true` is a match. @throws Error when it does not parse */
export function compileRule(src: string): (claims: Record<string, Value>) => boolean {
  const node = new Parser(tokenize(src)).parse()
  return (claims) => node(claims) === true
}

/** The string literals a rule names: what `'x' in groups` can test, so the groups worth keeping in a cookie. */
export function ruleLiterals(src: string): string[] {
  try {
    return tokenize(src).flatMap((t) => (t.kind === 'str' ? [t.value as string] : []))
  } catch {
    return []
  }
}
