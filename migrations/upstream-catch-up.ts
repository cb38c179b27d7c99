import { sql, type Kysely } from 'kysely'

/** Upstream's last Postgres schema step (spec §6.1): the shape migration 0001 creates and expects. */
export const UPSTREAM_STEP = 68

type Db = Kysely<unknown>

async function version(db: Db): Promise<number | undefined> {
  const { rows } = await sql<{ v: number | null }>`SELECT max(schema_version) AS v FROM schema_history`.execute(db)
  return rows[0]?.v ?? undefined
}

async function exists(db: Db, table: string): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`SELECT to_regclass(${table})::text AS t`.execute(db)
  return rows[0]?.t != null
}

async function columnType(db: Db, table: string, column: string): Promise<string | undefined> {
  const { rows } = await sql<{ t: string }>`SELECT data_type AS t FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} AND column_name = ${column}`.execute(db)
  return rows[0]?.t
}

/** Creates index `name` on `columns` unless it exists with those columns; one with other columns is replaced. */
async function ensureIndex(db: Db, name: string, table: string, columns: string): Promise<void> {
  const { rows } = await sql<{ d: string }>`SELECT indexdef AS d FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`.execute(db)
  if (rows[0]?.d.endsWith(`(${columns})`)) return
  await sql`DROP INDEX IF EXISTS ${sql.id(name)}`.execute(db)
  await sql`CREATE INDEX ${sql.id(name)} ON ${sql.table(table)} (${sql.raw(columns)})`.execute(db)
}

/** The controller's node-status offload table as upstream's step 68 leaves it (spec §6.1), unless it exists. */
export async function createOffloadTable(db: Db, table: string): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS ${sql.table(table)} (
    uid varchar(128) NOT NULL,
    namespace varchar(256) NOT NULL,
    creationtimestamp timestamp DEFAULT CURRENT_TIMESTAMP,
    clustername varchar(64) NOT NULL,
    version varchar(64) NOT NULL,
    nodes json NOT NULL,
    updatedat timestamp NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (clustername, uid, version))`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS ${sql.id(`${table}_i1`)} ON ${sql.table(table)} (clustername, namespace, updatedat)`.execute(db)
}

/**
 * An archive an older upstream controller migrated (schema_history below 68: Argo 3.5 keeps `workflow` as json,
 * 3.6 has no `creationtimestamp`) brought to step 68's shape, as upstream's controller would bring it
 * (persist/sqldb/migrate.go, Postgres changes from step 47 on), then marked 68 so that controller skips them.
 * Driven by what the schema lacks rather than by step numbers: upstream numbered these steps differently
 * between releases (the `_i1` change of aw#14240 is steps 53-54 in one, 67-68 in another).
 * @throws Error for a schema from before the labels table (step 46), which this does not bring forward
 */
export async function catchUpUpstream(db: Db, offloadTable: string): Promise<void> {
  if (!(await exists(db, 'schema_history'))) return
  const v = await version(db)
  if (v === undefined || v >= UPSTREAM_STEP) return
  if (!(await exists(db, 'argo_archived_workflows_labels'))) {
    throw new Error(`the archive's schema is at upstream step ${v}, before its labels table: migrate it with an upstream workflow controller first`)
  }
  const w = 'argo_archived_workflows'
  if (await exists(db, offloadTable)) {
    if ((await columnType(db, offloadTable, 'nodes')) === 'text') {
      await sql`ALTER TABLE ${sql.table(offloadTable)} ALTER COLUMN nodes TYPE json USING nodes::json`.execute(db)
    }
    await sql`DROP INDEX IF EXISTS ${sql.id(`${offloadTable}_i2`)}`.execute(db)
    await ensureIndex(db, `${offloadTable}_i1`, offloadTable, 'clustername, namespace, updatedat')
  }
  if (!(await columnType(db, w, 'instanceid'))) {
    await sql`ALTER TABLE argo_archived_workflows ADD COLUMN instanceid varchar(64)`.execute(db)
    await sql`UPDATE argo_archived_workflows SET instanceid = '' WHERE instanceid IS NULL`.execute(db)
    await sql`ALTER TABLE argo_archived_workflows ALTER COLUMN instanceid SET NOT NULL`.execute(db)
  }
  if ((await columnType(db, w, 'workflow')) !== 'jsonb') {
    await sql`ALTER TABLE argo_archived_workflows ALTER COLUMN workflow SET DATA TYPE jsonb USING workflow::jsonb`.execute(db)
  }
  if (!(await columnType(db, w, 'creationtimestamp'))) {
    await sql`ALTER TABLE argo_archived_workflows ADD COLUMN creationtimestamp timestamp NULL`.execute(db)
    await sql`UPDATE argo_archived_workflows SET creationtimestamp = startedat WHERE creationtimestamp IS NULL`.execute(db)
    await sql`ALTER TABLE argo_archived_workflows ALTER COLUMN creationtimestamp SET DEFAULT CURRENT_TIMESTAMP`.execute(db)
  }
  await ensureIndex(db, 'argo_archived_workflows_i1', w, 'clustername, instanceid, namespace, startedat DESC')
  await ensureIndex(db, 'argo_archived_workflows_i2', w, 'clustername, instanceid, finishedat')
  await ensureIndex(db, 'argo_archived_workflows_i3', w, 'clustername, instanceid, name')
  await ensureIndex(db, 'argo_archived_workflows_i4', w, 'clustername, startedat')
  await ensureIndex(db, 'argo_archived_workflows_i5', w, 'creationtimestamp')
  await ensureIndex(db, 'argo_archived_workflows_labels_i1', 'argo_archived_workflows_labels', 'name, value')
  // One row, as upstream's migrator keeps it (it updates the row holding step - 1).
  await sql`DELETE FROM schema_history`.execute(db)
  await sql`INSERT INTO schema_history (schema_version) VALUES (${UPSTREAM_STEP})`.execute(db)
}
