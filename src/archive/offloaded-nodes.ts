import { gunzip } from 'node:zlib'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import type { Db } from '../db/database.js'

const gunzipAsync = promisify(gunzip)

/**
 * The controller's node-status offload table (spec §6.1: `persistence.postgresql.tableName`, `argo_workflows` in
 * upstream's docs), read only: the controller creates, writes and garbage-collects it.
 */
export class OffloadedNodes {
  readonly #db: Db
  readonly #clusterName: string
  readonly #table: string

  constructor(db: Db, clusterName: string, table: string) {
    this.#db = db
    this.#clusterName = clusterName
    this.#table = table
  }

  /** The nodes' JSON text saved under (uid, version); undefined when there is no such row, or no such table. */
  async get(uid: string, version: string): Promise<string | undefined> {
    try {
      const r = await sql<{ nodes: string }>`SELECT nodes::text AS nodes FROM ${sql.table(this.#table)}
        WHERE clustername = ${this.#clusterName} AND uid = ${uid} AND version = ${version}`.execute(this.#db.kysely)
      return r.rows[0]?.nodes
    } catch (err) {
      // undefined_table: offloading was never on (the controller creates the table only then)
      if ((err as { code?: unknown }).code === '42P01') return undefined
      throw err
    }
  }
}

/**
 * Puts a workflow's nodes back in `status.nodes` when the controller moved them out (upstream's hydrator): gzip and
 * base64 in `status.compressedNodes`, or offloaded to the table under `status.offloadNodeStatusVersion`. The
 * archive must hold them: the controller deletes offloaded rows a few minutes after the workflow is gone.
 * Returns what could not be restored (the offloaded row is gone), to log; the rest of the workflow is archived.
 * Throws when the database cannot be read, so the caller retries.
 */
export async function hydrateNodes(status: Record<string, unknown>, uid: string, offloaded: OffloadedNodes): Promise<string | undefined> {
  const compressed = status.compressedNodes
  if (typeof compressed === 'string' && compressed) {
    try {
      status.nodes = JSON.parse((await gunzipAsync(Buffer.from(compressed, 'base64'))).toString('utf8')) as unknown
      delete status.compressedNodes
    } catch (err) {
      return `status.compressedNodes cannot be read (${(err as Error).message}); kept as it is`
    }
  }
  const version = status.offloadNodeStatusVersion
  if (typeof version !== 'string' || !version) return undefined
  const nodes = await offloaded.get(uid, version)
  if (nodes === undefined) return `its offloaded nodes (version ${version}) are no longer in the offload table`
  status.nodes = JSON.parse(nodes) as unknown
  delete status.offloadNodeStatusVersion
  return undefined
}
