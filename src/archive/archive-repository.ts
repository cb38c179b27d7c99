import { sql, type RawBuilder } from 'kysely'
import { execute, type Db } from '../db/database.js'
import type { ArchiveRecord, ArchiveScope } from './types.js'
import { encodeNulls } from './types.js'

/** SQL of every scoped query: `clustername = … [AND namespace = …] AND instanceid = …` (spec §6.3). */
export function scopeSql(scope: ArchiveScope, alias = 'w'): RawBuilder<unknown> {
  const t = sql.ref(alias)
  const ns = scope.managedNamespace ? sql` AND ${t}.namespace = ${scope.managedNamespace}` : sql``
  return sql`${t}.clustername = ${scope.clusterName} AND ${t}.instanceid = ${scope.instanceId}${ns}`
}

/**
 * Archive writes. A workflow is upserted by (clustername, uid), never deleted and re-inserted, and only when the
 * stored copy is not newer (lessons §2: an older snapshot overwrote a newer record upstream). The row lock taken
 * by the upsert serializes concurrent writers of one workflow, so labels are replaced under it.
 */
export class ArchiveWriter {
  readonly #db: Db
  readonly #scope: ArchiveScope

  constructor(db: Db, scope: ArchiveScope) {
    this.#db = db
    this.#scope = scope
  }

  /**
   * @param updateOnly only an existing row is written (a change after archiving): a row deleted from the archive, or
   *   expired, stays deleted
   * @returns false when a newer copy is already archived, or (updateOnly) there is no row: nothing written
   */
  async upsert(r: ArchiveRecord, updateOnly = false): Promise<boolean> {
    const c = this.#scope.clusterName
    return this.#db.kysely.transaction().execute(async (tx) => {
      const written = updateOnly ? await sql<{ uid: string }>`
        UPDATE argo_archived_workflows AS a SET name = ${r.name}, phase = ${r.phase}, namespace = ${r.namespace},
          workflow = ${encodeNulls(r.json)}::jsonb, startedat = ${r.startedAt}, finishedat = ${r.finishedAt},
          instanceid = ${this.#scope.instanceId}, creationtimestamp = ${r.creationTimestamp}, resourceversion = ${r.resourceVersion}::bigint
        WHERE a.clustername = ${c} AND a.uid = ${r.uid} AND (a.resourceversion IS NULL OR a.resourceversion <= ${r.resourceVersion}::bigint)
        RETURNING uid`.execute(tx) : await sql<{ uid: string }>`
        INSERT INTO argo_archived_workflows AS a
          (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid, creationtimestamp, resourceversion)
        VALUES (${r.uid}, ${r.name}, ${r.phase}, ${r.namespace}, ${encodeNulls(r.json)}::jsonb, ${r.startedAt}, ${r.finishedAt},
          ${c}, ${this.#scope.instanceId}, ${r.creationTimestamp}, ${r.resourceVersion}::bigint)
        ON CONFLICT (clustername, uid) DO UPDATE SET
          name = excluded.name, phase = excluded.phase, namespace = excluded.namespace, workflow = excluded.workflow,
          startedat = excluded.startedat, finishedat = excluded.finishedat, instanceid = excluded.instanceid,
          creationtimestamp = excluded.creationtimestamp, resourceversion = excluded.resourceversion
        WHERE a.resourceversion IS NULL OR a.resourceversion <= excluded.resourceversion
        RETURNING uid`.execute(tx)
      if (!written.rows.length) return false
      const names = Object.keys(r.labels)
      const values = names.map((k) => r.labels[k] as string)
      await sql`DELETE FROM argo_archived_workflows_labels
        WHERE clustername = ${c} AND uid = ${r.uid} AND NOT (name = ANY(${names}::text[]))`.execute(tx)
      if (names.length) {
        // finishedat, namespace: the copies the label indexes use (migrations/0003); a trigger follows the workflow row.
        await sql`INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value, finishedat, namespace)
          SELECT ${c}, ${r.uid}, n, v, ${r.finishedAt}::timestamp, ${r.namespace} FROM unnest(${names}::text[], ${values}::text[]) AS l(n, v)
          ON CONFLICT (clustername, uid, name) DO UPDATE SET value = excluded.value`.execute(tx)
      }
      return true
    })
  }

  /**
   * Records that the row is current with the live version `rv`: our own Archived label patch made it, changing
   * nothing the row holds, so a later change is told by a newer live version (see versions). Only ever raised.
   */
  async current(uid: string, rv: string): Promise<void> {
    await execute(this.#db, sql`UPDATE argo_archived_workflows SET resourceversion = ${rv}::bigint
      WHERE clustername = ${this.#scope.clusterName} AND uid = ${uid} AND resourceversion < ${rv}::bigint`)
  }

  /** uid → the live version each row is current with, for those of `uids` archived by this server (upstream's: none) */
  async versions(uids: string[]): Promise<Map<string, number>> {
    const r = await execute(this.#db, sql<{ uid: string; rv: string }>`SELECT uid, resourceversion AS rv FROM argo_archived_workflows
      WHERE clustername = ${this.#scope.clusterName} AND uid = ANY(${uids}::text[]) AND resourceversion IS NOT NULL`)
    return new Map(r.rows.map((row) => [row.uid, Number(row.rv)]))
  }

  /** Whether the database answers at all (a cheap check while writes wait out a backoff). */
  async reachable(): Promise<boolean> {
    return execute(this.#db, sql`SELECT 1`).then(() => true, () => false)
  }

  /** @returns whether a row was deleted (labels go by cascade) */
  async delete(uid: string): Promise<boolean> {
    const r = await execute(this.#db, sql`DELETE FROM argo_archived_workflows w WHERE ${scopeSql(this.#scope)} AND w.uid = ${uid}`)
    return Number(r.numAffectedRows ?? 0) > 0
  }

  /**
   * Deletes up to `batch` rows finished more than `ttlSeconds` ago (spec §6.2 step 4). Small batches keep each
   * transaction and its row locks short; the caller loops until a batch comes back short.
   */
  async deleteExpired(ttlSeconds: number, batch: number): Promise<number> {
    const r = await sql`DELETE FROM argo_archived_workflows d WHERE (d.clustername, d.uid) IN (
        SELECT w.clustername, w.uid FROM argo_archived_workflows w
        WHERE ${scopeSql(this.#scope)} AND w.finishedat < (now() AT TIME ZONE 'UTC') - make_interval(secs => ${ttlSeconds})
        LIMIT ${batch} FOR UPDATE SKIP LOCKED)`.execute(this.#db.kysely)
    return Number(r.numAffectedRows ?? 0)
  }
}
