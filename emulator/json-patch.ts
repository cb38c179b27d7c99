import { isRecord } from '../src/lib/records.js'

/** JSON Patch (RFC 6902), as the apiserver applies `application/json-patch+json`. Pure; inputs are never mutated. */

export class JsonPatchError extends Error {
  override name = 'JsonPatchError'
}

function parsePointer(ptr: string): string[] {
  if (ptr === '') return []
  if (!ptr.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer: ${JSON.stringify(ptr)}`)
  return ptr.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new JsonPatchError(`invalid array index: ${token}`)
  const i = Number(token)
  if (i > arr.length || (!forAdd && i === arr.length)) throw new JsonPatchError(`array index out of bounds: ${token}`)
  return i
}

function parentOf(doc: unknown, tokens: string[], ptr: string): unknown {
  let cur = doc
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)]
    else if (isRecord(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t]
    else throw new JsonPatchError(`path not found: ${ptr}`)
  }
  return cur
}

function getAt(doc: unknown, ptr: string): unknown {
  const tokens = parsePointer(ptr)
  if (tokens.length === 0) return doc
  const parent = parentOf(doc, tokens, ptr)
  const last = tokens[tokens.length - 1] as string
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)]
  if (isRecord(parent) && Object.prototype.hasOwnProperty.call(parent, last)) return parent[last]
  throw new JsonPatchError(`path not found: ${ptr}`)
}

function addAt(doc: unknown, ptr: string, value: unknown): unknown {
  const tokens = parsePointer(ptr)
  if (tokens.length === 0) return value
  const parent = parentOf(doc, tokens, ptr)
  const last = tokens[tokens.length - 1] as string
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value)
  else if (isRecord(parent)) parent[last] = value
  else throw new JsonPatchError(`path not found: ${ptr}`)
  return doc
}

function removeAt(doc: unknown, ptr: string): unknown {
  const tokens = parsePointer(ptr)
  if (tokens.length === 0) throw new JsonPatchError('cannot remove the document root')
  const parent = parentOf(doc, tokens, ptr)
  const last = tokens[tokens.length - 1] as string
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1)
  else if (isRecord(parent) && Object.prototype.hasOwnProperty.call(parent, last)) delete parent[last]
  else throw new JsonPatchError(`path not found: ${ptr}`)
  return doc
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}

function field(op: Record<string, unknown>, name: string): string {
  const v = op[name]
  if (typeof v !== 'string') throw new JsonPatchError(`missing ${name} in operation ${JSON.stringify(op)}`)
  return v
}

/** RFC 6902: applies all operations atomically (throws JsonPatchError, leaving `doc` untouched). */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new JsonPatchError('a JSON patch must be an array of operations')
  let out = structuredClone(doc)
  for (const op of ops) {
    if (!isRecord(op)) throw new JsonPatchError('a JSON patch operation must be an object')
    const path = field(op, 'path')
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new JsonPatchError('missing value in add operation')
        out = addAt(out, path, structuredClone(op.value))
        break
      case 'remove':
        out = removeAt(out, path)
        break
      case 'replace':
        if (!('value' in op)) throw new JsonPatchError('missing value in replace operation')
        getAt(out, path)
        out = parsePointer(path).length === 0 ? structuredClone(op.value) : addAt(removeAt(out, path), path, structuredClone(op.value))
        break
      case 'move': {
        const from = field(op, 'from')
        if (path.startsWith(`${from}/`)) throw new JsonPatchError('cannot move a value into one of its children')
        const v = getAt(out, from)
        out = addAt(removeAt(out, from), path, v)
        break
      }
      case 'copy':
        out = addAt(out, path, structuredClone(getAt(out, field(op, 'from'))))
        break
      case 'test':
        if (!deepEqual(getAt(out, path), op.value)) throw new JsonPatchError(`testing value ${path} failed`)
        break
      default:
        throw new JsonPatchError(`unexpected kind of operation: ${JSON.stringify(op.op)}`)
    }
  }
  return out
}
