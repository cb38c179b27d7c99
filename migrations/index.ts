import type { Migration, MigrationProvider } from 'kysely'
import * as m0001 from './0001_upstream_archive.js'
import * as m0002 from './0002_resource_version_and_keyset.js'
import * as m0003 from './0003_label_copies.js'

/** Every migration, listed statically so the bundle (npm start) carries them; names sort in run order. */
export const migrations: Record<string, Migration> = {
  '0001_upstream_archive': m0001,
  '0002_resource_version_and_keyset': m0002,
  '0003_label_copies': m0003,
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
}
