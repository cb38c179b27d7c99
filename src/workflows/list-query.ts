import { ApiError } from '../http/errors.js'
import { parseTime, TIME_RANGE } from '../http/query.js'
import { parseGoBool } from '../lib/go-values.js'
import { parseLabelSelector, type Requirement } from '../lib/label-selector.js'
import type { PagingStart } from './key-moves.js'
import type { SortKey } from './workflow-index.js'
import type { StoreQuery } from './store-query.js'

export interface ListRequest {
  namespace: string
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continue?: string
  nameFilter?: string
  createdAfter?: string
  finishedBefore?: string
}

/** Largest page served: "all" (limit 0) is capped and continued rather than built in memory (lessons §1c). */
export const MAX_PAGE = 2_000

/** Continue tokens are keyset positions, opaque to clients; a decimal offset (upstream's form) is still accepted. */
/** A keyset position, and the paging's first page when its order is kept (the live list: key-moves.ts). */
export function encodeContinue(key: SortKey, start?: PagingStart): string {
  const v = [key.group, key.time, key.uid, ...(start ? [start.seq, start.store] : [])]
  return Buffer.from(JSON.stringify(v)).toString('base64url')
}

function decodeContinue(token: string): Pick<StoreQuery, 'after' | 'offset' | 'pagingStart'> {
  // Upstream parses it with strconv.Atoi; beyond a safe integer it is no offset any page could have.
  if (/^\d+$/.test(token)) {
    const offset = Number(token)
    if (!Number.isSafeInteger(offset)) throw ApiError.invalidArgument('listOptions.continue must be int')
    return { offset }
  }
  if (/^-\d+$/.test(token)) throw ApiError.invalidArgument('listOptions.continue must >= 0')
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    // A position's time is one a workflow can have: a tampered one must not reach Date or Postgres (a 500).
    const time = Array.isArray(v) && typeof v[1] === 'number' && Number.isInteger(v[1]) && v[1] >= TIME_RANGE.min && v[1] <= TIME_RANGE.max
    // A NUL cannot be in any uid, and Postgres refuses it in a parameter (a 500).
    if (Array.isArray(v) && (v[0] === 0 || v[0] === 1) && time && typeof v[2] === 'string' && !v[2].includes('\u0000')) {
      // A tampered paging start is at worst another store's: the workflows are then where they are now.
      const pagingStart = Number.isSafeInteger(v[3]) && typeof v[4] === 'string' ? { seq: v[3] as number, store: v[4] } : undefined
      return { after: { group: v[0], time: v[1], uid: v[2] }, ...(pagingStart ? { pagingStart } : {}) }
    }
  } catch {
    // fall through to the contract's message
  }
  throw ApiError.invalidArgument('listOptions.continue must be int')
}

export function parseSelector(selector: string | undefined): Requirement[] {
  if (!selector) return []
  return parseLabelSelector(selector)
}

const nameFilters = ['Exact', 'Contains', 'Prefix', 'NotEquals'] as const

/**
 * Upstream's list options for workflows (spec §2.4): its own fieldSelector grammar (never passed to Kubernetes),
 * `nameFilter` applied to the `metadata.name` term, time filters, and offset-or-keyset paging.
 * Every bad value is a 400 here (upstream answers some with 500).
 */
export function parseListRequest(r: ListRequest, instanceReq: Requirement): StoreQuery {
  let namespace = r.namespace
  let namespaceNot = false
  let name: StoreQuery['name']
  let startedAfter: number | undefined
  let startedBefore: number | undefined
  let countRemaining = false
  for (const term of (r.fieldSelector ?? '').split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^(metadata\.namespace|metadata\.name|spec\.startedAt|ext\.showRemainingItemCount)(==|!=|=|>|<)(.*)$/.exec(term)
    const [, field, op, value = ''] = m ?? []
    if (!m) throw ApiError.invalidArgument(`unsupported requirement ${term}`)
    if (field === 'metadata.namespace' && op !== '>' && op !== '<') {
      // `!=` lists every other namespace: with a namespace asked for (path, query or another term) it contradicts
      // it, as `=` with another one does, rather than replacing it.
      const not = op === '!='
      if (namespace && (namespace !== value || namespaceNot !== not)) {
        // upstream formats both with %q
        throw ApiError.invalidArgument(`'namespace' query param (${JSON.stringify(namespace)}) and fieldselector 'metadata.namespace${not ? '!=' : ''}' (${JSON.stringify(value)}) are both specified and contradict each other`)
      }
      namespace = value
      namespaceNot = not && value !== ''
    } else if (field === 'metadata.name' && op !== '>' && op !== '<') {
      // An empty value filters nothing, as upstream's (an unset name): not "no workflow is named ''".
      name = value ? { op: op === '!=' ? 'NotEquals' : 'Exact', value } : undefined
    } else if (field === 'spec.startedAt' && (op === '>' || op === '<')) {
      if (!value) throw ApiError.invalidArgument(`unsupported requirement ${term}: a time is missing`)
      const t = parseTime('spec.startedAt', value)
      if (op === '>') startedAfter = t
      else startedBefore = t
    } else if (field === 'ext.showRemainingItemCount' && (op === '=' || op === '==')) {
      const b = parseGoBool(value)
      if (b === undefined) throw ApiError.invalidArgument(`invalid boolean in ${term}`)
      countRemaining = b
    } else throw ApiError.invalidArgument(`unsupported requirement ${term}`)
  }
  if (r.nameFilter && !(nameFilters as readonly string[]).includes(r.nameFilter)) {
    throw ApiError.invalidArgument(`nameFilter must be one of ${nameFilters.join(', ')}`)
  }
  // `!=` in the field selector wins over nameFilter (e2e TestWorkflowServiceListArchived).
  if (name && name.op !== 'NotEquals' && r.nameFilter) name = { op: r.nameFilter as (typeof nameFilters)[number], value: name.value }
  if (r.limit !== undefined && r.limit < 0) throw ApiError.invalidArgument('listOptions.limit must >= 0')
  const limit = r.limit && r.limit < MAX_PAGE ? r.limit : MAX_PAGE
  return {
    namespace,
    namespaceNot,
    labels: [...parseSelector(r.labelSelector), instanceReq],
    name,
    createdAfter: parseTime('createdAfter', r.createdAfter),
    finishedBefore: parseTime('finishedBefore', r.finishedBefore),
    startedAfter,
    startedBefore,
    ...(r.continue ? decodeContinue(r.continue) : {}),
    limit,
    countRemaining,
  }
}
