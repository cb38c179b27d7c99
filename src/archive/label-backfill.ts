import { setTimeout as sleep } from 'node:timers/promises'
import { sql, type Kysely } from 'kysely'
import { LABEL_INDEXES } from '../../migrations/0003_label_copies.js'
import { isUndefinedTable, type Database, type Db } from '../db/database.js'

const NAME = 'label_copies'
const BATCH = 1_000
// pg_try_advisory_lock key: one replica backfills at a time ("argo-server label backfill").
const LOCK = 0x61726731
const RETRY_MS = 10_000
const STOP_WAIT_MS = 10_000

type Conn = Kysely<Database>
/**
 * Finishes migration 0003 on an archive that already had rows: fills the label rows' copies of `finishedat` and
 * `namespace`, builds the label indexes CONCURRENTLY (archiving and reads go on meanwhile), then records it done
 * (argo_server_backfills). Until then readers use the plan that does not need the indexes.
 * - One replica at a time, under a session advisory lock taken on a connection of its own (`session`), closed
 *   after each attempt: closing releases the lock and the session's settings, whatever failed.
 * - Label rows are filled in batches of 1,000 workflows walked in primary-key order (kept across retries), so each
 *   statement is short. New rows need nothing: migration 0003's triggers fill them.
 * - An index left INVALID by an interrupted build is dropped and built again.
 * - Postgres unreachable: retried every 10 s, logged; the server's start never waits for this.
 */
export class LabelCopiesBackfill {
  readonly #db: Db
  readonly #session: () => Db
  readonly #log: (msg: string) => void
  #done = false
  #stopped = false
  #running: Promise<void> | undefined
  #buildPid: number | undefined
  #wake: (() => void) | undefined
  #after = { clustername: '', uid: '' }
  #filled = 0

  /** @param session opens a single-connection pool for one attempt */
  constructor(db: Db, session: () => Db, log: (msg: string) => void) {
    this.#db = db
    this.#session = session
    this.#log = log
  }

  /** whether every label row carries its copies and the indexes are built */
  get done(): boolean {
    return this.#done
  }

  start(): void {
    this.#running = this.#loop()
  }

  /** @returns once what start() began has ended (done or stopped) */
  async settled(): Promise<void> {
    await this.#running
  }

  /**
   * Stops between batches; an index build in progress is cancelled (the next start drops it and builds again).
   * Waits at most 10 s: a Postgres that cannot be reached must not hold up the server's shutdown.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    const end = Date.now() + STOP_WAIT_MS
    // A cancel that reaches the backend just before the build starts is lost: repeat until the build has ended.
    while (this.#buildPid !== undefined && Date.now() < end) {
      await sql`SELECT pg_cancel_backend(${this.#buildPid})`.execute(this.#db.kysely).catch(() => undefined)
      await sleep(100)
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#running, new Promise((r) => { timer = setTimeout(r, Math.max(0, end - Date.now())) })])
    clearTimeout(timer)
  }

  async #loop(): Promise<void> {
    while (!this.#stopped && !this.#done) {
      try {
        if (await this.#marked(this.#db.kysely)) this.#done = true
        else if (!await this.#attempt()) await this.#sleep(RETRY_MS) // another replica holds the lock
      } catch (err) {
        if (this.#stopped) return
        if (isUndefinedTable(err)) {
          this.#log('archive: migration 0003 is not applied (migrations skipped?): label-selector pages use the slower plan')
          return
        }
        this.#log(`archive: label backfill failed, retrying in ${RETRY_MS / 1000} s (label-selector pages use the slower plan meanwhile): ${(err as Error).message}`)
        await this.#sleep(RETRY_MS)
      }
    }
  }

  /** @returns false when another replica holds the lock */
  async #attempt(): Promise<boolean> {
    const session = this.#session()
    try {
      const conn = session.kysely
      const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${LOCK}) AS ok`.execute(conn)
      if (!rows[0]?.ok) return false
      this.#done = await this.#marked(conn) || await this.#backfill(conn)
      return true
    } finally {
      await session.close()
    }
  }

  async #marked(db: Conn): Promise<boolean> {
    const { rows } = await sql`SELECT 1 FROM argo_server_backfills WHERE name = ${NAME}`.execute(db)
    return rows.length > 0
  }

  /** @returns whether it completed (false: stopped) */
  async #backfill(conn: Conn): Promise<boolean> {
    const t0 = Date.now()
    await this.#fill(conn)
    if (this.#stopped) return false
    const t1 = Date.now()
    const { rows: pid } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
    await sql`SET statement_timeout = 0`.execute(conn) // this session only: it is closed after the attempt
    for (const index of LABEL_INDEXES) {
      const { rows } = await sql<{ valid: boolean }>`SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = ${index.name}`.execute(conn)
      if (rows[0]?.valid) continue
      this.#buildPid = pid[0]?.pid
      try {
        if (this.#stopped) return false
        if (rows[0]) await sql`DROP INDEX CONCURRENTLY IF EXISTS ${sql.raw(index.name)}`.execute(conn)
        await sql`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${sql.raw(index.name)} ON argo_archived_workflows_labels ${index.columns}`.execute(conn)
      } finally {
        this.#buildPid = undefined
      }
    }
    // Statistics on the copies before selector pages plan with them: until autovacuum gets to it, a filled archive
    // (a restored dump, an upstream one) has none, and a namespaced selector page was planned at seconds, not ms.
    // ANALYZE's lock blocks neither reads nor writes.
    await sql`ANALYZE argo_archived_workflows, argo_archived_workflows_labels`.execute(conn)
    await sql`INSERT INTO argo_server_backfills (name, finishedat) VALUES (${NAME}, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`.execute(conn)
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    this.#log(`archive: label backfill filled ${this.#filled} label rows in ${s(t1 - t0)} and built the label indexes in ${s(Date.now() - t1)}; selector pages now use them`)
    return true
  }

  async #fill(conn: Conn): Promise<void> {
    while (!this.#stopped) {
      const after = this.#after
      const { rows } = await sql<{ clustername: string; uid: string; n: string }>`WITH batch AS (
          SELECT w.clustername, w.uid, w.finishedat, w.namespace FROM argo_archived_workflows w
          WHERE (w.clustername, w.uid) > (${after.clustername}, ${after.uid}) ORDER BY w.clustername, w.uid LIMIT ${BATCH}),
        filled AS (
          UPDATE argo_archived_workflows_labels l SET finishedat = b.finishedat, namespace = b.namespace FROM batch b
          WHERE l.clustername = b.clustername AND l.uid = b.uid AND (l.finishedat IS NULL OR l.namespace IS NULL) RETURNING 1)
        SELECT b.clustername, b.uid, (SELECT count(*) FROM filled) AS n FROM batch b ORDER BY b.clustername DESC, b.uid DESC LIMIT 1`
        .execute(conn)
      const last = rows[0]
      if (!last) return
      this.#filled += Number(last.n)
      this.#after = { clustername: last.clustername, uid: last.uid }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#stopped) return resolve()
      const t = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }
}
