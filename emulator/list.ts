/** Listing with selectors and limit/continue paging, and the list's JSON serialization (built from stored JSON). */
import type { ResourceDef } from './resources.js'
import { apiVersionOf } from './resources.js'
import type { Entry, Store } from './store.js'
import type { Selector } from './selectors.js'
import { isEmptySelector, matches } from './selectors.js'
import { errors } from './status.js'

export interface ListResult {
  rv: number
  entries: Entry[]
  continue?: string
  remaining?: number
}

interface ContinueToken {
  v: string
  rv: number
  start: string
}

export function encodeContinue(rv: number, lastKey: string): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: lastKey }
  return Buffer.from(JSON.stringify(t)).toString('base64url')
}

function decodeContinue(token: string): ContinueToken {
  let t: unknown
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw errors.badRequest('invalid continue token: illegal base64 data or malformed JSON')
  }
  if (typeof t !== 'object' || t === null) throw errors.badRequest('invalid continue token: not an object')
  const { v, rv, start } = t as Record<string, unknown>
  if (v !== 'meta.k8s.io/v1') throw errors.badRequest('invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
  if (typeof rv !== 'number' || !Number.isInteger(rv) || rv < 0) throw errors.badRequest('invalid continue token: continue key is not valid: incorrect encoded resourceVersion')
  if (typeof start !== 'string' || start === '') throw errors.badRequest('invalid continue token: continue key is not valid: encoded start key empty')
  return { v, rv, start }
}

export function listEntries(store: Store, res: ResourceDef, namespace: string | undefined, sel: Selector, limit?: number, cont?: string): ListResult {
  let snapshot = store.rv
  let after: string | undefined
  if (cont) {
    const t = decodeContinue(cont)
    snapshot = t.rv
    after = t.start
  }
  const max = limit && limit > 0 ? limit : Infinity
  const empty = isEmptySelector(sel)
  const entries: Entry[] = []
  let more = false
  for (const e of store.scan(res, namespace, after)) {
    // objects created after the first page's snapshot were not part of it: a watch from that RV reports them
    if (e.createdRV > snapshot) continue
    if (!empty && !matches(sel, e)) continue
    if (entries.length >= max) {
      more = true
      break
    }
    entries.push(e)
  }
  const out: ListResult = { rv: snapshot, entries }
  const last = entries[entries.length - 1]
  if (more && last) {
    out.continue = encodeContinue(snapshot, last.key)
    if (empty) out.remaining = store.countAfter(res, namespace, last.key)
  }
  return out
}

/** The list document as chunks of JSON text, so 50k stored objects never become one giant string. */
export function* listJson(res: ResourceDef, result: ListResult): Generator<string> {
  const meta: Record<string, unknown> = { resourceVersion: String(result.rv) }
  if (result.continue) meta.continue = result.continue
  if (result.remaining !== undefined) meta.remainingItemCount = result.remaining
  yield `{"kind":${JSON.stringify(`${res.kind}List`)},"apiVersion":${JSON.stringify(apiVersionOf(res))},"metadata":${JSON.stringify(meta)},"items":[`
  const batch: string[] = []
  let first = true
  for (const e of result.entries) {
    batch.push(e.json)
    if (batch.length >= 500) {
      yield (first ? '' : ',') + batch.join(',')
      first = false
      batch.length = 0
    }
  }
  if (batch.length > 0) yield (first ? '' : ',') + batch.join(',')
  yield ']}'
}
