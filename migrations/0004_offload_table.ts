import type { Migration } from 'kysely'
import { createOffloadTable } from './upstream-catch-up.js'

/**
 * The controller's node-status offload table under `persistence.postgresql.tableName` when that is not the default
 * 0001 created. 0001 marks upstream's migrations done (schema_history 68), so an upstream controller sharing the
 * database never creates it: its first offload would fail on a missing table.
 */
export function migration(offloadTable: string): Migration {
  return { up: (db) => createOffloadTable(db, offloadTable) }
}
