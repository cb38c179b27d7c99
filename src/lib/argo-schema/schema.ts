// JSON-schema validation against the vendored upstream schema. The validators are
// Ajv standalone code generated from argo.schema.json by scripts/vendor-argo-schema.ts
// (compiling at run time took ~600 ms; importing the generated module ~50 ms).
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import * as validators from './argo.validators.js'
import { Problems, join, type ArgoKind, type Problem } from './util.js'

const byKind: Record<ArgoKind, ValidateFunction> = validators

/** Turns Ajv's JSON pointer into 'spec.templates[0].name', using the instance to tell indices from map keys. */
function toPath(pointer: string, root: unknown): string {
  if (pointer === '') return ''
  let path = ''
  let node: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(node)) {
      const i = Number(token)
      path = join(path, i)
      node = node[i]
    } else {
      path = join(path, token)
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[token] : undefined
    }
  }
  return path
}

function typeList(t: unknown): string {
  const list = Array.isArray(t) ? t.map(String) : String(t).split(',')
  return list.join(' or ')
}

function describe(e: ErrorObject): { sub?: string; message: string } {
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { sub: String(p.missingProperty), message: 'is required' }
    case 'type':
      return { message: `must be ${typeList(p.type)}` }
    case 'const':
      return { message: `must be ${JSON.stringify(p.allowedValue)}` }
    case 'enum':
      return { message: `must be one of: ${(Array.isArray(p.allowedValues) ? p.allowedValues : []).map((v) => JSON.stringify(v)).join(', ')}` }
    case 'additionalProperties':
      return { sub: String(p.additionalProperty), message: 'unknown field' }
    case 'format':
      return { message: `must match format ${JSON.stringify(p.format)}` }
    default:
      return { message: e.message ?? `failed ${e.keyword}` }
  }
}

const BRANCHING = /\/(oneOf|anyOf)\/\d+\//

/**
 * Collapses oneOf/anyOf noise: the branch errors at a path become one message
 * (merged types when every branch failed on type, else a generic one).
 */
function collapse(errors: ErrorObject[]): ErrorObject[] {
  const branchPaths = new Set<string>()
  for (const e of errors) if (e.keyword === 'oneOf' || e.keyword === 'anyOf') branchPaths.add(e.instancePath)
  if (branchPaths.size === 0) return errors
  const out: ErrorObject[] = []
  for (const e of errors) {
    if (BRANCHING.test(e.schemaPath) && branchPaths.has(e.instancePath)) continue
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      const types = errors
        .filter((b) => b.instancePath === e.instancePath && BRANCHING.test(b.schemaPath))
        .map((b) => (b.keyword === 'type' ? (b.params as { type: unknown }).type : undefined))
      if (types.length > 0 && types.every((t) => t !== undefined)) {
        out.push({ ...e, keyword: 'type', params: { type: types.flatMap((t) => String(t).split(',')) } })
        continue
      }
      out.push({ ...e, message: 'does not match any allowed form' })
      continue
    }
    out.push(e)
  }
  return out
}

export function schemaProblems(kind: ArgoKind, obj: unknown): Problem[] {
  const validate = byKind[kind]
  if (validate(obj)) return []
  const problems = new Problems()
  for (const e of collapse(validate.errors ?? [])) {
    const { sub, message } = describe(e)
    const base = toPath(e.instancePath, obj)
    problems.add(sub === undefined ? base : join(base, sub), message)
  }
  return problems.list
}
