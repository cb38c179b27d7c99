import { sql, type Kysely, type Migration } from 'kysely'
import { catchUpUpstream, createOffloadTable, UPSTREAM_STEP } from './upstream-catch-up.js'

/**
 * Upstream's archive schema as its own migrator leaves it after step 68 (spec §6.1), created only where missing,
 * so a database an upstream controller already migrated is used as it is, and one an older controller migrated is
 * first brought to step 68. Frozen in time: never edit what it creates, add a step. (The catch-up was added later:
 * on such a database this step had failed, so no database has it applied without it. The offload table's name
 * followed tableName later too: databases that had this step keep argo_workflows, and 0004 made theirs.)
 */
export function migration(offloadTable: string): Migration {
  return { up: (db) => up(db, offloadTable), down: (db) => down(db, offloadTable) }
}

async function up(db: Kysely<unknown>, offloadTable: string): Promise<void> {
  await catchUpUpstream(db, offloadTable)
  await sql`CREATE TABLE IF NOT EXISTS schema_history (schema_version int NOT NULL PRIMARY KEY)`.execute(db)
  await sql`CREATE TABLE IF NOT EXISTS argo_archived_workflows (
    uid varchar(128) NOT NULL,
    name varchar(256) NOT NULL,
    phase varchar(25) NOT NULL,
    namespace varchar(256) NOT NULL,
    workflow jsonb NOT NULL,
    startedat timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finishedat timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clustername varchar(64) NOT NULL,
    instanceid varchar(64) NOT NULL,
    creationtimestamp timestamp NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT argo_archived_workflows_pkey PRIMARY KEY (clustername, uid))`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_i1 ON argo_archived_workflows (clustername, instanceid, namespace, startedat DESC)`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_i2 ON argo_archived_workflows (clustername, instanceid, finishedat)`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_i3 ON argo_archived_workflows (clustername, instanceid, name)`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_i4 ON argo_archived_workflows (clustername, startedat)`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_i5 ON argo_archived_workflows (creationtimestamp)`.execute(db)
  await sql`CREATE TABLE IF NOT EXISTS argo_archived_workflows_labels (
    clustername varchar(64) NOT NULL,
    uid varchar(128) NOT NULL,
    name varchar(317) NOT NULL,
    value varchar(63) NOT NULL,
    PRIMARY KEY (clustername, uid, name),
    FOREIGN KEY (clustername, uid) REFERENCES argo_archived_workflows (clustername, uid) ON DELETE CASCADE)`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_labels_i1 ON argo_archived_workflows_labels (name, value)`.execute(db)
  // The node-status offload table under persistence.postgresql.tableName (default argo_workflows), as upstream's step
  // 0 creates it: only that one. (Databases migrated before this took the configured name have argo_workflows too,
  // and 0004 added the configured one.)
  await createOffloadTable(db, offloadTable)
  // An upstream controller sharing this database must see its last step as applied, not re-run step 0.
  await sql`INSERT INTO schema_history (schema_version) SELECT ${sql.lit(UPSTREAM_STEP)} WHERE NOT EXISTS (SELECT 1 FROM schema_history)`.execute(db)
}

async function down(db: Kysely<unknown>, offloadTable: string): Promise<void> {
  await sql`DROP TABLE IF EXISTS argo_archived_workflows_labels`.execute(db)
  await sql`DROP TABLE IF EXISTS argo_archived_workflows`.execute(db)
  await sql`DROP TABLE IF EXISTS ${sql.table(offloadTable)}`.execute(db)
  await sql`DROP TABLE IF EXISTS schema_history`.execute(db)
}
