// Parameters: argument/input name rules (validateArguments / validateInputs in
// upstream workflow/validate/validate.go) and unresolved {{inputs.parameters.x}}.
import { checkNamedList } from './names.js'
import { arr, isRec, join, rec, type Problems, type Rec } from './util.js'

/** upstream validateArgumentsFieldNames + validateArgumentsValues for `<path>` = e.g. 'spec.arguments'. */
export function checkArguments(args: unknown, path: string, p: Problems): void {
  const a = rec(args)
  if (!a) return
  checkNamedList(a.parameters, join(path, 'parameters'), undefined, true, p)
  checkNamedList(a.artifacts, join(path, 'artifacts'), undefined, true, p)
  arr(a.parameters)?.forEach((param, i) => {
    const r = rec(param)
    const e = arr(r?.enum)
    if (!r || !e) return
    const at = join(join(path, 'parameters'), i)
    if (e.length === 0) {
      p.add(join(at, 'enum'), 'should contain at least one value')
      return
    }
    const value = r.value
    if (typeof value === 'string' && !value.includes('{{') && !e.includes(value)) {
      p.add(join(at, 'value'), 'should be present in enum list')
    }
  })
}

/** Template inputs: parameter and artifact names valid and unique. Returns declared parameter names. */
export function checkInputs(tmpl: Rec, path: string, label: string, p: Problems): Set<string> {
  const inputs = rec(tmpl.inputs)
  if (!inputs) return new Set()
  const inPath = join(path, 'inputs')
  checkNamedList(inputs.artifacts, join(inPath, 'artifacts'), `${label}.inputs.artifacts`, true, p)
  return checkNamedList(inputs.parameters, join(inPath, 'parameters'), `${label}.inputs.parameters`, true, p)
}

const INPUT_PARAM = /^inputs\.parameters\.(.+)$/

/** Tags as upstream's fasttemplate finds them: from each '{{' to the next '}}', trimmed. */
function* tags(s: string): Generator<string> {
  let from = 0
  for (;;) {
    const open = s.indexOf('{{', from)
    if (open < 0) return
    const close = s.indexOf('}}', open + 2)
    if (close < 0) return
    yield s.slice(open + 2, close).trim()
    from = close + 2
  }
}

/**
 * Every `{{inputs.parameters.x}}` in the template must name a declared input
 * (upstream substitutes declared inputs, then resolveAllVariables fails on the
 * rest). Inline templates of steps/tasks have their own inputs and are checked
 * on their own. Expression tags (`{{=...}}`) are not checked, like upstream.
 */
interface RefScope {
  label: string
  declared: Set<string>
  p: Problems
}

// Top-level rather than closures: tsx (esbuild keepNames) makes every named closure costly.
function walkRefs(node: unknown, at: string, scope: RefScope): void {
  if (typeof node === 'string') {
    for (const tag of tags(node)) {
      const m = INPUT_PARAM.exec(tag)
      if (m && !scope.declared.has(m[1] as string)) scope.p.add(at, `${scope.label}: failed to resolve {{${tag}}}`)
    }
  } else if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) walkRefs(node[i], join(at, i), scope)
  } else if (isRec(node)) {
    for (const [k, v] of Object.entries(node)) walkRefs(v, join(at, k), scope)
  }
}

// A step or task's inline template is a separate scope.
function walkHolderRefs(holder: unknown, at: string, scope: RefScope): void {
  if (!isRec(holder)) return walkRefs(holder, at, scope)
  for (const [k, v] of Object.entries(holder)) if (k !== 'inline') walkRefs(v, join(at, k), scope)
}

export function checkInputRefs(tmpl: Rec, path: string, label: string, declared: Set<string>, p: Problems): void {
  const scope: RefScope = { label, declared, p }
  for (const [key, value] of Object.entries(tmpl)) {
    const at = join(path, key)
    if (key === 'steps' && Array.isArray(value)) {
      value.forEach((group, i) => {
        if (Array.isArray(group)) group.forEach((step, j) => walkHolderRefs(step, join(join(at, i), j), scope))
        else walkRefs(group, join(at, i), scope)
      })
    } else if (key === 'dag' && isRec(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'tasks' && Array.isArray(v)) v.forEach((task, i) => walkHolderRefs(task, join(join(at, k), i), scope))
        else walkRefs(v, join(at, k), scope)
      }
    } else {
      walkRefs(value, at, scope)
    }
  }
}
