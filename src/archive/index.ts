import type { AccessReview } from '../auth/index.js'
import type { ClusterSettings } from '../config/configmap.js'
import type { Config } from '../config/schema.js'
import { isUnreachable, migrateToLatest, openDatabase, pendingMigrations, type Db } from '../db/database.js'
import type { KubeClient } from '../kube/client.js'
import type { ArchivedListing, WorkflowStore } from '../workflows/index.js'
import { ArchiveReader } from './archive-read-repository.js'
import { ArchiveWriter } from './archive-repository.js'
import { Archiver } from './archiver.js'
import { ArchiveGc } from './gc.js'
import { LabelCopiesBackfill } from './label-backfill.js'
import { LeaseElector } from './lease.js'
import { OffloadedNodes } from './offloaded-nodes.js'
import { resolvePersistence, type ArchivingSettings } from './persistence.js'
import { releaseHeld } from './release.js'
import { ArchiveService, type ArchiveServiceDeps } from './service.js'
import { followArchivingSettings } from './settings-reload.js'
import { archivedListing } from './unified.js'

export interface Archive {
  service: ArchiveService
  /** undefined without persistence */
  reader?: ArchiveReader
  /** live and archived workflows as one list; undefined without persistence */
  listing?: ArchivedListing
  archiver?: Archiver
  elector?: LeaseElector
  /** the controller's node-status offload table; undefined without persistence */
  offloaded?: OffloadedNodes
  close(): Promise<void>
}

/**
 * The archive as configured (spec §6, §7.3): no persistence → upstream's null archive; persistence → migrate
 * (unless skipped), serve reads, and, when archiving is on, campaign for the Lease and archive while leading.
 */
export async function startArchive(o: {
  config: Config
  settings: ClusterSettings
  kube: KubeClient
  store: WorkflowStore
  access: AccessReview
  synced: Promise<void>
  managedNamespace: string
  log: (msg: string) => void
  create: ArchiveServiceDeps['create']
}): Promise<Archive> {
  const { config, settings } = o
  const disableValuesPattern = config.env.disableValueListRetrievalKeyPattern ? new RegExp(config.env.disableValueListRetrievalKeyPattern) : undefined
  const p = await resolvePersistence({
    databaseUrl: config.databaseUrl, settings: settings.persistence, kube: o.kube, namespace: config.namespace,
    archiveTtl: config.archiveTtl, skipMigrations: config.skipMigrations, log: o.log,
  })
  const release = () => releaseHeld({
    store: o.store, kube: o.kube, synced: o.synced, instanceId: settings.instanceID, log: o.log, rescanMs: config.archiveLeaseSeconds * 4_000,
  })
  if (!p) {
    const stopReleasing = release()
    return { service: new ArchiveService({ access: o.access, instanceId: settings.instanceID, disableValuesPattern }), close: async () => stopReleasing() }
  }
  const migrations = await startMigrations(p.url, p.offloadTable, p.skipMigrations, o.log)
  const db: Db = openDatabase(p.url)
  const scope = { clusterName: p.clusterName, instanceId: settings.instanceID, managedNamespace: o.managedNamespace }
  const backfill = new LabelCopiesBackfill(db, () => openDatabase(p.url, { max: 1 }), o.log)
  void migrations.done.then(() => backfill.start())
  const reader = new ArchiveReader(db, scope, () => backfill.done)
  const writer = new ArchiveWriter(db, scope)
  const service = new ArchiveService({ reader, writer, access: o.access, instanceId: settings.instanceID, disableValuesPattern, create: o.create })
  const listing = archivedListing(o.store, reader)
  const offloaded = new OffloadedNodes(db, p.clusterName, p.offloadTable)
  const follow = (apply: (s: ArchivingSettings) => void) => followArchivingSettings({
    kube: o.kube, namespace: config.namespace, configmap: config.configmap, initial: p,
    databaseUrl: config.databaseUrl, archiveTtl: config.archiveTtl, apply, log: o.log,
  })
  const closeDatabase = async () => {
    migrations.stop()
    await backfill.stop()
    await db.close()
  }
  if (!p.archive) {
    const stopReleasing = release()
    const stopFollowing = follow((s) => {
      if (s.archive) o.log('archive: persistence.archive is now true: restart the server to start archiving')
    })
    return { service, reader, listing, offloaded, close: async () => { stopReleasing(); stopFollowing(); await closeDatabase() } }
  }

  const archiver = new Archiver({
    store: o.store, writer, kube: o.kube, instanceId: settings.instanceID, selector: p.selector, log: o.log,
    offloaded, electionWorks: () => elector.working, changesKeptMs: Math.max(60_000, config.archiveLeaseSeconds * 4_000),
    holdUnfinished: config.archiveHoldUnfinished,
  })
  const gc = new ArchiveGc(writer, p.ttlSeconds, config.archiveGcPeriod * 1000, o.log)
  const elector = new LeaseElector(o.kube, {
    namespace: config.namespace, name: 'argo-server-archiver', durationSeconds: config.archiveLeaseSeconds, log: o.log,
    onWorking: () => archiver.followerScan(),
    onChange: (leader) => {
      archiver.setLeader(leader)
      // The TTL pass runs once the tables exist (its first run is at leadership; a failed one waits a period).
      if (!leader) gc.setLeader(false)
      else void migrations.done.then(() => gc.setLeader(elector.leader))
    },
  })
  // Until the tables exist, writes of deleted workflows fail and are retried like any outage; the scan waits.
  archiver.start(Promise.all([o.synced, migrations.done]).then(() => {}), o.synced)
  elector.start()
  const stopFollowing = follow((s) => {
    archiver.configure({ enabled: s.archive, selector: s.selector })
    gc.setTtl(s.ttlSeconds)
  })
  return {
    service, reader, listing, archiver, elector, offloaded,
    async close() {
      stopFollowing()
      await elector.stop()
      archiver.stop()
      gc.setLeader(false)
      await archiver.drain()
      await closeDatabase()
    },
  }
}

const MIGRATION_RETRY_MS = 5_000

/**
 * Migrates now, or with `skip` checks that the migrations were applied (by another replica or a DBA): archiving
 * writes this server's columns, so a database without them is a start error naming what is missing, not a writer
 * retrying forever. With Postgres unreachable the server still starts (its Kubernetes API does not depend on the
 * archive): the attempt is retried every 5 s in the background, logged, and the archive's writers wait for it.
 * Any other failure (a refused password, a failed migration) still fails the start, where an operator sees it.
 */
async function startMigrations(url: string, offloadTable: string, skip: boolean, log: (msg: string) => void): Promise<{ done: Promise<void>; stop(): void }> {
  const migrate = async () => {
    if (skip) {
      const pending = await pendingMigrations(url, { offloadTable })
      if (pending.length) {
        throw new MissingSchema(`archive: migrations are skipped (--skip-migrations or persistence.skipMigration), but the database lacks ${pending.join(', ')}: start once without skipping them`)
      }
      return
    }
    const applied = await migrateToLatest(url, { offloadTable })
    if (applied.length) log(`archive: applied migrations ${applied.join(', ')}`)
  }
  try {
    await migrate()
    return { done: Promise.resolve(), stop: () => {} }
  } catch (err) {
    if (!isUnreachable(err)) throw err
    log(`archive: database unreachable, ${skip ? 'the check of its migrations' : 'migrations'} retried every ${MIGRATION_RETRY_MS / 1000} s: ${(err as Error).message}`)
  }
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const done = new Promise<void>((resolve) => {
    const attempt = () => {
      timer = setTimeout(() => {
        if (stopped) return
        migrate().then(resolve, (err: unknown) => {
          // Found late (Postgres was down at start): nothing is archived until a restart with the schema in place.
          if (err instanceof MissingSchema) return log(`${err.message}; archiving stays off until then`)
          log(`archive: migrations failed, retrying in ${MIGRATION_RETRY_MS / 1000} s: ${(err as Error).message}`)
          attempt()
        })
      }, MIGRATION_RETRY_MS)
    }
    attempt()
  })
  return { done, stop: () => { stopped = true; clearTimeout(timer) } }
}

/** The schema lacks this server's migrations while they are skipped. */
class MissingSchema extends Error {}
