import { sql, type Kysely } from 'kysely'
import { LABEL_KEYSET_COLUMNS } from '../../migrations/0003_label_finished_at.js'
import type { Database, Db } from '../db/database.js'

const NAME = 'labels_finishedat'
const INDEX = 'argo_archived_workflows_labels_keyset'
const BATCH = 1_000
// pg_try_advisory_lock key: one replica backfills at a time ("argo-server label backfill").
const LOCK = 0x61726731
const RETRY_MS = 10_000

type Conn = Kysely<Database>

/**
 * Finishes migration 0003 on an archive that already had rows: fills `finishedat` on label rows archived before it,
 * builds the label index CONCURRENTLY (archiving and reads go on meanwhile), then records it done
 * (argo_server_backfills). Until then readers use the plan that does not need the index.
 * - One replica at a time, under a Postgres advisory lock; the others wait for the marker.
 * - Label rows are filled in batches of 1,000 workflows walked in primary-key order, so each statement is short.
 *   New rows need nothing: migration 0003's trigger fills them.
 * - An index left INVALID by an interrupted build is dropped and built again.
 */
export class LabelTimesBackfill {
  #done = false
  #stopped = false
  #running: Promise<void> | undefined
  #buildPid: number | undefined
  #wake: (() => void) | undefined

  constructor(private readonly db: Db, private readonly log: (msg: string) => void) {}

  /** whether every label row carries its workflow's finishedat and the index is built */
  get done(): boolean {
    return this.#done
  }

  /**
   * Reads the marker and, if it is missing, backfills, in the background: a Postgres that is unreachable at start
   * delays this (retried every 10 s, logged) but never the server's start.
   */
  start(): void {
    this.#running = this.#loop()
  }

  /** @returns once what start() began has ended (done or stopped) */
  async settled(): Promise<void> {
    await this.#running
  }

  /** Stops between batches; an index build in progress is cancelled (the next start drops it and builds again). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    if (this.#buildPid !== undefined) await sql`SELECT pg_cancel_backend(${this.#buildPid})`.execute(this.db.kysely).catch(() => undefined)
    await this.#running
  }

  async #marked(db: Conn): Promise<boolean> {
    const { rows } = await sql`SELECT 1 FROM argo_server_backfills WHERE name = ${NAME}`.execute(db)
    return rows.length > 0
  }

  async #loop(): Promise<void> {
    while (!this.#stopped && !this.#done) {
      try {
        await this.#run()
      } catch (err) {
        if (this.#stopped) return
        this.log(`archive: label backfill failed, retrying in ${RETRY_MS / 1000} s (label-selector pages use the slower plan meanwhile): ${(err as Error).message}`)
        await this.#sleep(RETRY_MS)
      }
    }
  }

  async #run(): Promise<void> {
    if (await this.#marked(this.db.kysely)) {
      this.#done = true
      return
    }
    // A session-level advisory lock lives on one connection: the backfill runs on it.
    const locked = await this.db.kysely.connection().execute(async (conn) => {
      const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${LOCK}) AS ok`.execute(conn)
      if (!rows[0]?.ok) return false
      try {
        this.#done = await this.#marked(conn) || await this.#backfill(conn)
      } finally {
        await sql`SELECT pg_advisory_unlock(${LOCK})`.execute(conn)
      }
      return true
    })
    if (!locked) await this.#sleep(RETRY_MS) // another replica is at it: its marker will say when it is done
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }

  /** @returns whether it completed (false: stopped) */
  async #backfill(conn: Conn): Promise<boolean> {
    const t0 = Date.now()
    const filled = await this.#fill(conn)
    if (this.#stopped) return false
    const t1 = Date.now()
    const { rows } = await sql<{ valid: boolean }>`SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname = ${INDEX}`.execute(conn)
    if (rows[0] && !rows[0].valid) await sql`DROP INDEX CONCURRENTLY IF EXISTS ${sql.raw(INDEX)}`.execute(conn)
    const { rows: pid } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
    this.#buildPid = pid[0]?.pid
    try {
      await sql`SET statement_timeout = 0`.execute(conn)
      if (this.#stopped) return false
      await sql`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${sql.raw(INDEX)} ON argo_archived_workflows_labels ${LABEL_KEYSET_COLUMNS}`.execute(conn)
    } finally {
      this.#buildPid = undefined
      await sql`RESET statement_timeout`.execute(conn)
    }
    await sql`INSERT INTO argo_server_backfills (name, finishedat) VALUES (${NAME}, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`.execute(conn)
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    this.log(`archive: label backfill filled ${filled} label rows in ${s(t1 - t0)} and built ${INDEX} in ${s(Date.now() - t1)}; selector pages now use it`)
    return true
  }

  /** @returns label rows filled */
  async #fill(conn: Conn): Promise<number> {
    let after = { clustername: '', uid: '' }
    let filled = 0
    while (!this.#stopped) {
      const { rows } = await sql<{ clustername: string; uid: string; n: string }>`WITH batch AS (
          SELECT w.clustername, w.uid, w.finishedat FROM argo_archived_workflows w
          WHERE (w.clustername, w.uid) > (${after.clustername}, ${after.uid}) ORDER BY w.clustername, w.uid LIMIT ${BATCH}),
        filled AS (
          UPDATE argo_archived_workflows_labels l SET finishedat = b.finishedat FROM batch b
          WHERE l.clustername = b.clustername AND l.uid = b.uid AND l.finishedat IS NULL RETURNING 1)
        SELECT b.clustername, b.uid, (SELECT count(*) FROM filled) AS n FROM batch b ORDER BY b.clustername DESC, b.uid DESC LIMIT 1`
        .execute(conn)
      const last = rows[0]
      if (!last) break
      filled += Number(last.n)
      after = { clustername: last.clustername, uid: last.uid }
    }
    return filled
  }
}
