// DAG `depends` expressions: `A && (B.Failed || !C.Succeeded)`, evaluated without eval().

const RESULTS = new Set(['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed'])

function splitAtom(tok: string): [string, string | undefined] {
  const i = tok.lastIndexOf('.')
  if (i > 0 && RESULTS.has(tok.slice(i + 1))) return [tok.slice(0, i), tok.slice(i + 1)]
  return [tok, undefined]
}

/** Task names a `depends` expression refers to (only names of tasks in the DAG). */
export function dependsNames(expr: string, known: Set<string>): string[] {
  const out: string[] = []
  for (const tok of expr.match(/[^\s&|!()]+/g) ?? []) {
    const [name] = splitAtom(tok)
    if (known.has(name) && !out.includes(name)) out.push(name)
  }
  return out
}

/** `result` undefined means the bare task name. */
export type Outcome = (task: string, result: string | undefined) => boolean

export function evalDepends(expr: string, outcome: Outcome): boolean {
  const toks = expr.match(/&&|\|\||!|\(|\)|[^\s&|!()]+/g) ?? []
  let i = 0
  const or = (): boolean => {
    let v = and()
    while (toks[i] === '||') {
      i++
      const r = and()
      v = v || r
    }
    return v
  }
  const and = (): boolean => {
    let v = unary()
    while (toks[i] === '&&') {
      i++
      const r = unary()
      v = v && r
    }
    return v
  }
  const unary = (): boolean => {
    const t = toks[i++]
    if (t === undefined) return true
    if (t === '!') return !unary()
    if (t === '(') {
      const v = or()
      if (toks[i] === ')') i++
      return v
    }
    const [name, result] = splitAtom(t)
    return outcome(name, result)
  }
  return toks.length === 0 ? true : or()
}
