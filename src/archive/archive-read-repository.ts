import { sql, type RawBuilder } from 'kysely'
import { execute, type Db } from '../db/database.js'
import { wireEscape } from '../http/wire.js'
import type { Requirement } from '../lib/label-selector.js'
import { scopeSql } from './archive-repository.js'
import { decodeNulls, type ArchiveFilter, type ArchiveScope, type ArchiveSummary } from './types.js'

const iso = (ms: number) => new Date(ms).toISOString()
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * One label requirement as a correlated subquery on the labels table (spec §6.4), every value a bound parameter
 * (upstream inlines them). `>`/`<` compare only integer values, guarded so a non-numeric value cannot fail a cast.
 */
function labelClause(r: Requirement): RawBuilder<unknown> {
  const base = sql`SELECT 1 FROM argo_archived_workflows_labels l WHERE l.clustername = w.clustername AND l.uid = w.uid AND l.name = ${r.key}`
  switch (r.operator) {
    case '=': case '==': case 'in':
      return sql`EXISTS (${base} AND l.value = ANY(${r.values}::text[]))`
    case '!=': case 'notin':
      return sql`NOT EXISTS (${base} AND l.value = ANY(${r.values}::text[]))`
    case 'exists':
      return sql`EXISTS (${base})`
    case '!':
      return sql`NOT EXISTS (${base})`
    case '>': case '<': {
      const op = sql.raw(r.operator)
      return sql`EXISTS (${base} AND (CASE WHEN l.value ~ '^[+-]?[0-9]{1,18}$' THEN l.value::bigint END) ${op} ${r.values[0] ?? '0'}::bigint)`
    }
  }
}

/**
 * The WHERE clause. `keyset` names the table whose (finishedat, uid) the page position is compared with: the
 * driving label rows when a page is read through a label index, so the position bounds that index range.
 */
export function filterSql(scope: ArchiveScope, f: ArchiveFilter, keyset = 'w', driver?: Requirement): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [scopeSql(scope)]
  if (f.namespace) parts.push(f.namespaceNot ? sql`w.namespace <> ${f.namespace}` : sql`w.namespace = ${f.namespace}`)
  if (f.uids) parts.push(sql`w.uid = ANY(${[...f.uids]})`)
  if (f.notUids) parts.push(sql`NOT (w.uid = ANY(${[...f.notUids]}))`)
  if (f.namePrefix) parts.push(sql`w.name LIKE ${`${likeEscape(f.namePrefix)}%`}`)
  if (f.name) {
    const v = f.name.value
    if (f.name.op === 'Exact') parts.push(sql`w.name = ${v}`)
    else if (f.name.op === 'NotEquals') parts.push(sql`w.name <> ${v}`)
    else if (f.name.op === 'Prefix') parts.push(sql`w.name LIKE ${`${likeEscape(v)}%`}`)
    else parts.push(sql`w.name LIKE ${`%${likeEscape(v)}%`}`)
  }
  if (f.createdAfter !== undefined) parts.push(sql`w.creationtimestamp >= ${iso(f.createdAfter)}::timestamp`)
  if (f.finishedBefore !== undefined) parts.push(sql`w.finishedat <= ${iso(f.finishedBefore)}::timestamp`)
  // spec.startedAt> and < are inclusive bounds upstream (spec §6.4: startedat >= $min, <= $max), as their names are not
  if (f.startedAfter !== undefined) parts.push(sql`w.startedat >= ${iso(f.startedAfter)}::timestamp`)
  if (f.startedBefore !== undefined) parts.push(sql`w.startedat <= ${iso(f.startedBefore)}::timestamp`)
  // Archived rows are all finished (group 1): after an unfinished key, every row follows.
  if (f.after?.group === 1) {
    const t = iso(f.after.time)
    const k = sql.ref(keyset)
    parts.push(sql`${k}.finishedat <= ${t}::timestamp AND (${k}.finishedat < ${t}::timestamp OR ${k}.uid > ${f.after.uid})`)
  }
  for (const r of f.labels) if (r !== driver) parts.push(labelClause(r))
  return sql.join(parts, sql` AND `)
}

/**
 * The requirement that can drive a page through a label index (migration 0003): one key equal to one value. Its
 * label rows, in (finishedat DESC, uid) order, are the page's candidates. The first such requirement is taken,
 * not the rarest (that needs statistics); the others are checked per candidate.
 */
function drivingRequirement(f: ArchiveFilter): Requirement | undefined {
  return f.labels.find((r) => (r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1)
}

/**
 * The fields of the summary (spec §6.4) as jsonb text, read from one detoasted copy of the document (the OFFSET 0
 * subquery materializes it once per row, not once per path: with ~18 KB documents that is the page's main cost).
 * The server splices these texts into the item without parsing them (see toSummary).
 */
const summarySql = sql`CROSS JOIN LATERAL (SELECT (x.m->'creationTimestamp')::text AS ct,
    (CASE WHEN jsonb_typeof(x.m->'labels') = 'object' THEN x.m->'labels' ELSE '{}'::jsonb END
      || '{"workflows.argoproj.io/workflow-archiving-status":"Persisted"}'::jsonb)::text AS labels,
    (x.m->'annotations')::text AS annotations, (x.sp->'suspend')::text AS suspend, (x.sp->'arguments')::text AS arguments,
    (x.st->'startedAt')::text AS started, (x.st->'finishedAt')::text AS finished, (x.st->'progress')::text AS progress,
    (x.st->'message')::text AS message, (x.st->'estimatedDuration')::text AS estimated, (x.st->'resourcesDuration')::text AS resources
  FROM (SELECT y.doc->'metadata' AS m, y.doc->'spec' AS sp, y.doc->'status' AS st
    FROM (SELECT w.workflow || '{}'::jsonb AS doc OFFSET 0) y OFFSET 0) x) s`

/**
 * The page query, exported so the benchmark runs exactly this SQL through pg directly. With `labelIndex` (every
 * label row carries its copies, migration 0003) and an equality requirement, the page is one range of that label's
 * rows in list order: within the namespace when one is asked for (labels_ns_keyset), else across all (labels_keyset).
 */
export function listSql(scope: ArchiveScope, f: ArchiveFilter, labelIndex = false): RawBuilder<SummaryRow> {
  const limit = f.limit > 0 ? sql` LIMIT ${f.limit}` : sql``
  const offset = f.offset ? sql` OFFSET ${f.offset}` : sql``
  const driver = labelIndex ? drivingRequirement(f) : undefined
  if (!driver) {
    return sql<SummaryRow>`SELECT w.uid, w.name, w.namespace, w.phase, w.finishedat, s.*
      FROM argo_archived_workflows w ${summarySql} WHERE ${filterSql(scope, f)}
      ORDER BY w.finishedat DESC, w.uid${limit}${offset}`
  }
  const namespace = scope.managedNamespace || (f.namespace && !f.namespaceNot ? f.namespace : '')
  const inNamespace = namespace ? sql` AND d.namespace = ${namespace}` : sql``
  return sql<SummaryRow>`SELECT w.uid, w.name, w.namespace, w.phase, w.finishedat, s.*
    FROM argo_archived_workflows_labels d JOIN argo_archived_workflows w ON w.clustername = d.clustername AND w.uid = d.uid ${summarySql}
    WHERE d.clustername = ${scope.clusterName} AND d.name = ${driver.key} AND d.value = ${driver.values[0]}${inNamespace}
      AND ${filterSql(scope, f, 'd', driver)}
    ORDER BY d.finishedat DESC, d.uid${limit}${offset}`
}

/** The get-by-uid query, exported so the benchmark runs exactly this SQL through pg directly. */
export function getByUidSql(scope: ArchiveScope, uid: string): RawBuilder<{ w: string }> {
  return sql<{ w: string }>`SELECT w.workflow::text AS w FROM argo_archived_workflows w WHERE ${scopeSql(scope)} AND w.uid = ${uid}`
}

type Json = string | null
interface SummaryRow {
  uid: string; name: string; namespace: string; phase: string; finishedat: Date
  ct: Json; labels: Json; annotations: Json; suspend: Json; arguments: Json
  started: Json; finished: Json; progress: Json; message: Json; estimated: Json; resources: Json
}

/** `members` plus `"key":value` when the JSON text is present and not null (Go's omitempty). */
const add = (members: string, key: string, v: Json): string => v === null || v === 'null' ? members : `${members}${members ? ',' : ''}"${key}":${v}`

/** The list item as wire JSON, spliced from jsonb texts in upstream's field order: no parse and re-serialize per row. */
function toSummary(r: SummaryRow): ArchiveSummary {
  const metadata = add(add(add(`"name":${JSON.stringify(r.name)},"namespace":${JSON.stringify(r.namespace)},"uid":${JSON.stringify(r.uid)}`,
    'creationTimestamp', r.ct), 'labels', r.labels), 'annotations', r.annotations)
  const spec = add(add('', 'suspend', r.suspend), 'arguments', r.arguments)
  let status = `"phase":${JSON.stringify(r.phase)}`
  status = add(add(add(status, 'startedAt', r.started), 'finishedAt', r.finished), 'progress', r.progress)
  status = add(add(add(status, 'message', r.message), 'estimatedDuration', r.estimated), 'resourcesDuration', r.resources)
  const json = wireEscape(decodeNulls(`{"metadata":{${metadata}},"spec":{${spec}},"status":{${status}}}`))
  return { group: 1, time: r.finishedat.getTime(), uid: r.uid, json }
}

/** Archive reads: pages in the list order (finishedAt desc, uid), full workflows by uid or name, label values. */
export class ArchiveReader {
  readonly #db: Db
  readonly #scope: ArchiveScope
  readonly #labelIndex: () => boolean

  /** @param labelIndex whether the label copies and indexes are complete yet (src/archive/label-backfill.ts) */
  constructor(db: Db, scope: ArchiveScope, labelIndex: () => boolean = () => true) {
    this.#db = db
    this.#scope = scope
    this.#labelIndex = labelIndex
  }

  get scope(): ArchiveScope {
    return this.#scope
  }

  async list(f: ArchiveFilter): Promise<ArchiveSummary[]> {
    const { rows } = await execute(this.#db, listSql(this.#scope, f, this.#labelIndex()))
    return rows.map(toSummary)
  }

  /** Matches beyond a position, counted up to `cap` (an index-bounded scan, never an unbounded count). */
  async countUpTo(f: ArchiveFilter, cap: number): Promise<number> {
    const { rows } = await execute(this.#db, sql<{ n: string }>`SELECT count(*) AS n FROM (SELECT 1 FROM argo_archived_workflows w
      WHERE ${filterSql(this.#scope, f)} LIMIT ${cap}) c`)
    return Number(rows[0]?.n ?? 0)
  }

  async getByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await execute(this.#db, getByUidSql(this.#scope, uid))
    return rows[0] ? JSON.parse(decodeNulls(rows[0].w)) as Record<string, unknown> : undefined
  }

  /** The latest run of that name (upstream: ORDER BY startedat DESC LIMIT 1; uid breaks ties, deterministically). */
  async getByName(namespace: string, name: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await execute(this.#db, sql<{ w: string }>`SELECT w.workflow::text AS w FROM argo_archived_workflows w
      WHERE ${scopeSql(this.#scope)} AND w.namespace = ${namespace} AND w.name = ${name}
      ORDER BY w.startedat DESC, w.uid DESC LIMIT 1`)
    return rows[0] ? JSON.parse(decodeNulls(rows[0].w)) as Record<string, unknown> : undefined
  }

  /**
   * Distinct label keys. Upstream's are unscoped and unauthorized (spec §6.3); ours are authorized per namespace, so
   * with a namespace (or on a namespaced server) they are that namespace's only: no key or value of a namespace the
   * caller may not list. A loose index scan: one index probe per distinct key instead of reading every label row
   * (lessons §1b: seconds at 1M rows), over labels_i1 (name, value) unscoped, over the label copies' keyset index
   * within a namespace.
   */
  async labelKeys(namespace: string): Promise<string[]> {
    const inScope = this.#labelsIn(namespace)
    const { rows } = await execute(this.#db, sql<{ name: string }>`WITH RECURSIVE k(name) AS (
        (SELECT l.name FROM argo_archived_workflows_labels l WHERE ${inScope} ORDER BY l.name LIMIT 1)
        UNION ALL
        SELECT (SELECT l.name FROM argo_archived_workflows_labels l WHERE ${inScope} AND l.name > k.name ORDER BY l.name LIMIT 1) FROM k WHERE k.name IS NOT NULL)
      SELECT name FROM k WHERE name IS NOT NULL`)
    return rows.map((r) => r.name)
  }

  /** Distinct values of one key, scoped as the keys are; the same loose index scan. */
  async labelValues(key: string, namespace: string): Promise<string[]> {
    const inScope = this.#labelsIn(namespace)
    const { rows } = await execute(this.#db, sql<{ value: string }>`WITH RECURSIVE v(value) AS (
        (SELECT l.value FROM argo_archived_workflows_labels l WHERE ${inScope} AND l.name = ${key} ORDER BY l.value LIMIT 1)
        UNION ALL
        SELECT (SELECT l.value FROM argo_archived_workflows_labels l WHERE ${inScope} AND l.name = ${key} AND l.value > v.value ORDER BY l.value LIMIT 1) FROM v WHERE v.value IS NOT NULL)
      SELECT value FROM v WHERE value IS NOT NULL`)
    return rows.map((r) => r.value)
  }

  /** Label rows of this cluster's workflows in `namespace` (or the managed one); all of this cluster's without either. */
  #labelsIn(namespace: string): RawBuilder<unknown> {
    const managed = this.#scope.managedNamespace
    // A namespaced server lists nothing of another namespace, so it has no labels of one either.
    if (managed && namespace && namespace !== managed) return sql`FALSE`
    const ns = namespace || managed
    // Upstream's keys are every cluster's; ours this cluster's, as its lists are.
    if (!ns) return sql`l.clustername = ${this.#scope.clusterName}`
    // The label rows' own copy of the namespace once every row has it (src/archive/label-backfill.ts), else the workflow's.
    return this.#labelIndex()
      ? sql`l.clustername = ${this.#scope.clusterName} AND l.namespace = ${ns}`
      : sql`EXISTS (SELECT 1 FROM argo_archived_workflows w WHERE w.clustername = l.clustername AND w.uid = l.uid AND w.clustername = ${this.#scope.clusterName} AND w.namespace = ${ns})`
  }
}
