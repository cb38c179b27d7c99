import type { SortKey, StoreQuery } from '../workflows/index.js'

/** Where archive rows live: every query is scoped by these (spec §6.3). */
export interface ArchiveScope {
  clusterName: string
  instanceId: string
  /** `--namespaced`: only this namespace; '' = all */
  managedNamespace: string
}

/**
 * The filters of ListArchivedWorkflows and of the archive half of ListWorkflows (spec §2.4, §6.4): the live list's
 * (its `after` read as rows strictly after that (finishedat DESC, uid), its `offset` as rows to skip), plus namePrefix.
 */
export interface ArchiveFilter extends Omit<StoreQuery, 'countRemaining'> {
  namePrefix?: string
  /** only these workflows */
  uids?: readonly string[]
  /** not these */
  notUids?: readonly string[]
}

/**
 * One archived workflow as a list shows it (summary, spec §6.4): its keyset position (group 1, finishedAt, uid)
 * and the list item as wire JSON, in the shape a page splices as it is.
 */
export interface ArchiveSummary extends SortKey {
  readonly group: 1
  readonly json: string
}

/** A finished workflow to archive: the full object and what the row's columns need. */
export interface ArchiveRecord {
  uid: string
  name: string
  namespace: string
  phase: string
  startedAt: string
  finishedAt: string
  creationTimestamp: string | null
  resourceVersion: string
  labels: Record<string, string>
  /** the Workflow's JSON text, labelled Persisted */
  json: string
}


/**
 * Postgres jsonb cannot hold `\u0000`; upstream stores this marker instead and restores it on read (spec §6.1).
 * Only real escapes are replaced (an odd number of backslashes before `u0000`), not an escaped backslash
 * followed by the text "u0000".
 */
const NULL_REPLACEMENT = 'ARGO_POSTGRES_NULL_REPLACEMENT'
export const encodeNulls = (json: string): string => json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, `$1${NULL_REPLACEMENT}`)
export const decodeNulls = (json: string): string => json.includes(NULL_REPLACEMENT) ? json.replaceAll(NULL_REPLACEMENT, '\\u0000') : json
