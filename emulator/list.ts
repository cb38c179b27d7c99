/** Listing with selectors and limit/continue paging, and the list's JSON serialization (built from stored JSON). */
import type { ResourceDef } from './resources.js'
import { apiVersionOf } from './resources.js'
import type { Entry, Store } from './store.js'
import type { Selector } from './selectors.js'
import { isEmptySelector, matches } from './selectors.js'
import { ApiError, errors } from './status.js'

const INCONSISTENT_CONTINUE = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.'

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
  /** the pages are of the state at `rv` exactly (resourceVersionMatch=Exact), not the current one */
  exact?: true
}

export function encodeContinue(rv: number, lastKey: string, exact = false): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: lastKey, ...(exact ? { exact: true } : {}) }
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
  const { v, rv, start, exact } = t as Record<string, unknown>
  if (v !== 'meta.k8s.io/v1') throw errors.badRequest('invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
  if (typeof rv !== 'number' || !Number.isInteger(rv) || rv < 0) throw errors.badRequest('invalid continue token: continue key is not valid: incorrect encoded resourceVersion')
  if (typeof start !== 'string' || start === '') throw errors.badRequest('invalid continue token: continue key is not valid: encoded start key empty')
  return exact === true ? { v, rv, start, exact } : { v, rv, start }
}

/**
 * A list's resourceVersion and resourceVersionMatch, checked as the apiserver checks them (ValidateListOptions), and
 * the version an exact list is of. Without resourceVersionMatch, as the etcd3 store's GetList (storage/etcd3/store.go;
 * test/integration/apiserver/apiserver_test.go testListOptionsCase): a version with a continue token is refused, and
 * a paged list (limit) at a version other than 0 is of that exact version (410 once compacted); an unpaged one is
 * "not older than" it, and one the server has not reached yet is refused as too large.
 */
export function exactVersion(q: URLSearchParams, store: Store, limit?: number): number | undefined {
  const match = q.get('resourceVersionMatch')
  const rv = q.get('resourceVersion') ?? ''
  if (!match) {
    if (!rv || rv === '0') return undefined
    if (q.get('continue')) throw errors.badRequest('specifying resource version is not allowed when using continue')
    const n = /^\d{1,15}$/.test(rv) ? Number(rv) : NaN
    if (!Number.isSafeInteger(n)) return undefined
    if (n > store.rv) throw errors.timeout(`Too large resource version: ${n}, current: ${store.rv}`)
    return limit !== undefined && limit > 0 ? n : undefined
  }
  if (match !== 'Exact' && match !== 'NotOlderThan') throw errors.badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`)
  if (!rv) throw errors.badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided')
  if (q.get('continue')) throw errors.badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided')
  if (match === 'NotOlderThan') return undefined
  if (rv === '0') throw errors.badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
  const n = /^\d{1,15}$/.test(rv) ? Number(rv) : NaN
  if (!Number.isSafeInteger(n)) throw errors.badRequest(`resourceVersion: Invalid value: "${rv}": invalid resource version`)
  if (n > store.rv) throw errors.timeout(`Too large resource version: ${n}, current: ${store.rv}`)
  return n
}

/**
 * A page of a list: of the current objects, or with `exact` (resourceVersionMatch=Exact, or a continue token of
 * such a list) of the objects as they were at that version, 410 Gone once history no longer reaches back to it.
 */
export function listEntries(store: Store, res: ResourceDef, namespace: string | undefined, sel: Selector, limit?: number, cont?: string, exact?: number): ListResult {
  let snapshot = exact ?? store.rv
  let after: string | undefined
  let past = exact !== undefined
  if (cont) {
    const t = decodeContinue(cont)
    snapshot = t.rv
    after = t.start
    past = t.exact === true
    // The first page's revision compacted meanwhile (etcd3 store.go interpretListError, handleCompactedErrorForPaging):
    // 410, with a token that goes on from the same key at the latest version, for whoever accepts an inconsistent list.
    if (!past && snapshot < store.historyStartRV) throw new ApiError(410, 'Expired', INCONSISTENT_CONTINUE, undefined, encodeContinue(store.rv, t.start))
  }
  const source = past ? pastEntries(store, res, namespace, snapshot, after, cont !== undefined) : store.scan(res, namespace, after)
  const max = limit && limit > 0 ? limit : Infinity
  const empty = isEmptySelector(sel)
  const entries: Entry[] = []
  let more = false
  for (const e of source) {
    // objects created after the first page's snapshot were not part of it: a watch from that RV reports them
    if (!past && e.createdRV > snapshot) continue
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
    out.continue = encodeContinue(snapshot, last.key, past)
    if (empty && !past) out.remaining = store.countAfter(res, namespace, last.key)
  }
  return out
}

function pastEntries(store: Store, res: ResourceDef, namespace: string | undefined, rv: number, after: string | undefined, continuing: boolean): Entry[] {
  const all = store.entriesAt(res, namespace, rv)
  if (!all) {
    if (continuing && after !== undefined) throw new ApiError(410, 'Expired', INCONSISTENT_CONTINUE, undefined, encodeContinue(store.rv, after))
    throw errors.expired('The resourceVersion for the provided list is too old.')
  }
  return after === undefined ? all : all.filter((e) => e.key > after)
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
