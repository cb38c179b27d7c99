import { sql } from 'kysely'
import { execute, isUndefinedTable, type Db } from '../db/database.js'
import { ApiError } from '../http/errors.js'
import type { OffloadedNodeSource } from '../workflows/index.js'

/**
 * The controller's node-status offload table (spec §6.1: `persistence.postgresql.tableName`, `argo_workflows` in
 * upstream's docs), read only: the controller creates, writes and garbage-collects it.
 */
export class OffloadedNodes implements OffloadedNodeSource {
  readonly #db: Db
  readonly #clusterName: string
  readonly #table: string

  constructor(db: Db, clusterName: string, table: string) {
    this.#db = db
    this.#clusterName = clusterName
    this.#table = table
  }

  /**
   * The nodes' JSON text saved under (uid, version); undefined when there is no such row, or no such table.
   * Through execute, as every request-path query: Postgres unreachable is 503 code 14, not a 500.
   */
  async get(uid: string, version: string): Promise<string | undefined> {
    try {
      const r = await execute(this.#db, sql<{ nodes: string }>`SELECT nodes::text AS nodes FROM ${sql.table(this.#table)}
        WHERE clustername = ${this.#clusterName} AND uid = ${uid} AND version = ${version}`)
      return r.rows[0]?.nodes
    } catch (err) {
      // offloading was never on (the controller creates the table only then)
      if (err instanceof ApiError && isUndefinedTable(err.cause)) return undefined
      throw err
    }
  }
}
