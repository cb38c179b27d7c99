import type { Migration, MigrationProvider } from 'kysely'
import * as m0001 from './0001_upstream_archive.js'
import * as m0002 from './0002_resource_version_and_keyset.js'
import * as m0003 from './0003_label_copies.js'
import * as m0004 from './0004_offload_table.js'

export interface MigrationOptions {
  /** persistence.postgresql.tableName: the controller's node-status offload table */
  offloadTable: string
}

/** Every migration, listed statically so the bundle (npm start) carries them; names sort in run order. */
export function migrations(o: MigrationOptions): Record<string, Migration> {
  return {
    '0001_upstream_archive': m0001.migration(o.offloadTable),
    '0002_resource_version_and_keyset': m0002,
    '0003_label_copies': m0003,
    '0004_offload_table': m0004.migration(o.offloadTable),
  }
}

export function migrationProvider(o: MigrationOptions = { offloadTable: 'argo_workflows' }): MigrationProvider {
  return { getMigrations: async () => migrations(o) }
}
