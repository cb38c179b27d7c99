import type { Migration } from 'kysely'
import { createOffloadTable } from './upstream-catch-up.js'

/**
 * The controller's node-status offload table under `persistence.postgresql.tableName`, for databases whose 0001 ran
 * when it created only the default one (a no-op since 0001 creates the configured one). 0001 marks upstream's
 * migrations done (schema_history 68), so an upstream controller sharing the database never creates it: its first
 * offload would fail on a missing table.
 */
export function migration(offloadTable: string): Migration {
  return { up: (db) => createOffloadTable(db, offloadTable) }
}
