import { sql, type Kysely } from 'kysely'

/**
 * What we add to upstream's schema (lessons §2): the archived copy's resourceVersion, so an older snapshot never
 * overwrites a newer row (NULL = written by upstream, version unknown), and indexes in our list order
 * (finishedat DESC, uid), so a page at any depth is an index range scan whatever the archive's size.
 * Adding a nullable column without a default is a catalog-only change: no table rewrite, no long lock.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE argo_archived_workflows ADD COLUMN IF NOT EXISTS resourceversion bigint NULL`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_keyset ON argo_archived_workflows (clustername, instanceid, finishedat DESC, uid)`.execute(db)
  await sql`CREATE INDEX IF NOT EXISTS argo_archived_workflows_ns_keyset ON argo_archived_workflows (clustername, instanceid, namespace, finishedat DESC, uid)`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS argo_archived_workflows_ns_keyset`.execute(db)
  await sql`DROP INDEX IF EXISTS argo_archived_workflows_keyset`.execute(db)
  await sql`ALTER TABLE argo_archived_workflows DROP COLUMN IF EXISTS resourceversion`.execute(db)
}
