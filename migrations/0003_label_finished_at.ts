import { sql, type Kysely } from 'kysely'

/** The label index's columns, in our list order per (name, value); the backfill builds the same index. */
export const LABEL_KEYSET_COLUMNS = sql.raw('(clustername, name, value, finishedat DESC, uid)')

/**
 * Label rows get a copy of their workflow's `finishedat` and an index in our list order per (name, value), so a page
 * under a label selector is one index range however rare or common the label is. Without it the page walks the
 * list order probing each workflow's labels: ~1,000 probes for a label on 1 row in 20, the whole archive for a rare
 * one (lessons §1b, §2: list timeouts at 200k rows).
 *
 * The copy is kept by the database, not by our writer alone: an upstream controller archiving into the same tables
 * inserts labels without it. A BEFORE INSERT trigger fills a missing copy from the workflow row (written first in
 * the same transaction, upstream and ours), and an AFTER UPDATE trigger follows a re-archived `finishedat`.
 * Rows that exist before this step are filled in batches after start-up, and the index is then built CONCURRENTLY
 * (src/archive/label-backfill.ts): built here, on an upstream archive of 1M workflows it ran past a minute holding a
 * lock that blocks archiving, and every backfilled row would have left a dead entry in it. Until the marker row
 * exists, readers use the probing plan. An empty archive gets the index and the marker at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE argo_archived_workflows_labels ADD COLUMN IF NOT EXISTS finishedat timestamp NULL`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION argo_archived_workflows_labels_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT w.finishedat INTO NEW.finishedat FROM argo_archived_workflows w WHERE w.clustername = NEW.clustername AND w.uid = NEW.uid;
      RETURN NEW;
    END $$`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_labels_fill ON argo_archived_workflows_labels`.execute(db)
  await sql`CREATE TRIGGER argo_archived_workflows_labels_fill BEFORE INSERT ON argo_archived_workflows_labels
    FOR EACH ROW WHEN (NEW.finishedat IS NULL) EXECUTE FUNCTION argo_archived_workflows_labels_fill()`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION argo_archived_workflows_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE argo_archived_workflows_labels SET finishedat = NEW.finishedat WHERE clustername = NEW.clustername AND uid = NEW.uid;
      RETURN NULL;
    END $$`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_follow ON argo_archived_workflows`.execute(db)
  await sql`CREATE TRIGGER argo_archived_workflows_follow AFTER UPDATE OF finishedat ON argo_archived_workflows
    FOR EACH ROW WHEN (OLD.finishedat IS DISTINCT FROM NEW.finishedat) EXECUTE FUNCTION argo_archived_workflows_follow()`.execute(db)
  await sql`CREATE TABLE IF NOT EXISTS argo_server_backfills (name varchar(64) NOT NULL PRIMARY KEY, finishedat timestamp NOT NULL)`.execute(db)
  const { rows } = await sql`SELECT 1 FROM argo_archived_workflows_labels LIMIT 1`.execute(db)
  if (rows.length) return
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_labels_keyset ON argo_archived_workflows_labels ${LABEL_KEYSET_COLUMNS}`.execute(db)
  await sql`INSERT INTO argo_server_backfills (name, finishedat) VALUES ('labels_finishedat', now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS argo_server_backfills`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_follow ON argo_archived_workflows`.execute(db)
  await sql`DROP FUNCTION IF EXISTS argo_archived_workflows_follow()`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_labels_fill ON argo_archived_workflows_labels`.execute(db)
  await sql`DROP FUNCTION IF EXISTS argo_archived_workflows_labels_fill()`.execute(db)
  await sql`DROP INDEX IF EXISTS argo_archived_workflows_labels_keyset`.execute(db)
  await sql`ALTER TABLE argo_archived_workflows_labels DROP COLUMN IF EXISTS finishedat`.execute(db)
}
