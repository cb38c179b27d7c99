import { sql, type Kysely } from 'kysely'

/**
 * The label indexes, by name and columns: in our list order per (name, value), across namespaces and within one.
 * The backfill builds the same indexes.
 */
export const LABEL_INDEXES = [
  { name: 'argo_archived_workflows_labels_keyset', columns: sql.raw('(clustername, name, value, finishedat DESC, uid)') },
  { name: 'argo_archived_workflows_labels_ns_keyset', columns: sql.raw('(clustername, name, value, namespace, finishedat DESC, uid)') },
] as const

/**
 * Label rows get a copy of their workflow's `finishedat` and `namespace`, and indexes in our list order per
 * (name, value) and per (name, value, namespace), so a page under a label selector is one index range however rare
 * or common the label is, in one namespace or all. Without them a page walks the list order probing each
 * workflow's labels: ~1,000 probes for a label on 1 row in 20, the whole archive (or namespace) for a rare one
 * (lessons §1b, §2: list timeouts at 200k rows).
 *
 * The copies are kept by the database, not by our writer alone: an upstream controller archiving into the same
 * tables inserts labels without them. A BEFORE INSERT trigger fills missing copies from the workflow row (written
 * first in the same transaction, upstream and ours: the foreign key requires it), and an AFTER UPDATE trigger
 * follows a re-archived row. Rows that exist before this step are filled in batches after start-up, and the
 * indexes are then built CONCURRENTLY (src/archive/label-backfill.ts): built here, on an upstream archive of 1M
 * workflows one ran past a minute holding a lock that blocks archiving, and every backfilled row would have left a
 * dead entry in them. Until the marker row exists, readers use the probing plan. An empty archive gets the indexes
 * and the marker at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // ALTER and CREATE TRIGGER wait for every open transaction on the tables, and every archive read and write queues
  // behind them meanwhile: give up after 10 s (the start fails with the reason, the next start tries again) rather
  // than freeze the archive behind one long transaction. The migrator runs this step in a transaction: LOCAL holds.
  await sql`SET LOCAL lock_timeout = '10s'`.execute(db)
  // Both tables at once, workflows first as every reader and writer takes them: taking labels (ALTER) and then
  // workflows (CREATE TRIGGER) could deadlock with an archive write or a selector read queued in between.
  await sql`LOCK TABLE argo_archived_workflows, argo_archived_workflows_labels IN ACCESS EXCLUSIVE MODE`.execute(db)
  await sql`ALTER TABLE argo_archived_workflows_labels ADD COLUMN IF NOT EXISTS finishedat timestamp NULL,
    ADD COLUMN IF NOT EXISTS namespace varchar(256) NULL`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION argo_archived_workflows_labels_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT w.finishedat, w.namespace INTO NEW.finishedat, NEW.namespace
        FROM argo_archived_workflows w WHERE w.clustername = NEW.clustername AND w.uid = NEW.uid;
      RETURN NEW;
    END $$`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_labels_fill ON argo_archived_workflows_labels`.execute(db)
  await sql`CREATE TRIGGER argo_archived_workflows_labels_fill BEFORE INSERT ON argo_archived_workflows_labels
    FOR EACH ROW WHEN (NEW.finishedat IS NULL OR NEW.namespace IS NULL) EXECUTE FUNCTION argo_archived_workflows_labels_fill()`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION argo_archived_workflows_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE argo_archived_workflows_labels SET finishedat = NEW.finishedat, namespace = NEW.namespace
        WHERE clustername = NEW.clustername AND uid = NEW.uid;
      RETURN NULL;
    END $$`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_follow ON argo_archived_workflows`.execute(db)
  await sql`CREATE TRIGGER argo_archived_workflows_follow AFTER UPDATE OF finishedat, namespace ON argo_archived_workflows
    FOR EACH ROW WHEN (OLD.finishedat IS DISTINCT FROM NEW.finishedat OR OLD.namespace IS DISTINCT FROM NEW.namespace)
    EXECUTE FUNCTION argo_archived_workflows_follow()`.execute(db)
  await sql`CREATE TABLE IF NOT EXISTS argo_server_backfills (name varchar(64) NOT NULL PRIMARY KEY, finishedat timestamp NOT NULL)`.execute(db)
  const { rows } = await sql`SELECT 1 FROM argo_archived_workflows_labels LIMIT 1`.execute(db)
  if (rows.length) return
  for (const i of LABEL_INDEXES) await sql`CREATE INDEX IF NOT EXISTS ${sql.raw(i.name)} ON argo_archived_workflows_labels ${i.columns}`.execute(db)
  await sql`INSERT INTO argo_server_backfills (name, finishedat) VALUES ('label_copies', now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS argo_server_backfills`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_follow ON argo_archived_workflows`.execute(db)
  await sql`DROP FUNCTION IF EXISTS argo_archived_workflows_follow()`.execute(db)
  await sql`DROP TRIGGER IF EXISTS argo_archived_workflows_labels_fill ON argo_archived_workflows_labels`.execute(db)
  await sql`DROP FUNCTION IF EXISTS argo_archived_workflows_labels_fill()`.execute(db)
  for (const i of LABEL_INDEXES) await sql`DROP INDEX IF EXISTS ${sql.raw(i.name)}`.execute(db)
  await sql`ALTER TABLE argo_archived_workflows_labels DROP COLUMN IF EXISTS finishedat, DROP COLUMN IF EXISTS namespace`.execute(db)
}
