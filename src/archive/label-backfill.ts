import { sql } from 'kysely'
import type { Db } from '../db/database.js'

const NAME = 'labels_finishedat'
const BATCH = 1_000

/**
 * Fills `finishedat` on label rows archived before migration 0003, then records it done (argo_server_backfills).
 * Until then readers use the plan that does not need the copy. Runs on every replica after start-up, in batches of
 * 1,000 workflows walked in primary-key order, so each statement is short and concurrent replicas only repeat
 * idempotent work; new rows need none (migration 0003's trigger fills them).
 */
export class LabelTimesBackfill {
  #done = false
  #stopped = false
  #running: Promise<void> | undefined

  constructor(private readonly db: Db, private readonly log: (msg: string) => void) {}

  /** whether every label row carries its workflow's finishedat */
  get done(): boolean {
    return this.#done
  }

  /** Reads the marker; starts filling in the background if it is missing. @returns once the marker was read */
  async start(): Promise<void> {
    this.#done = await this.#marked()
    if (!this.#done) this.#running = this.#fill().catch((err: unknown) => this.log(`archive: label backfill stopped, readers keep the slower plan until the next start: ${(err as Error).message}`))
  }

  /** @returns once a fill started by start() has ended (done, stopped or failed) */
  async settled(): Promise<void> {
    await this.#running
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#running
  }

  async #marked(): Promise<boolean> {
    const { rows } = await sql`SELECT 1 FROM argo_server_backfills WHERE name = ${NAME}`.execute(this.db.kysely)
    return rows.length > 0
  }

  async #fill(): Promise<void> {
    const t0 = Date.now()
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
        .execute(this.db.kysely)
      const last = rows[0]
      if (!last) break
      filled += Number(last.n)
      after = { clustername: last.clustername, uid: last.uid }
    }
    if (this.#stopped) return
    await sql`INSERT INTO argo_server_backfills (name, finishedat) VALUES (${NAME}, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`.execute(this.db.kysely)
    this.#done = true
    this.log(`archive: label backfill filled ${filled} label rows in ${((Date.now() - t0) / 1000).toFixed(1)} s; selector pages now use the label index`)
  }
}
