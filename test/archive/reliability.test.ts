import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { Migrator } from 'kysely'
import pg from 'pg'
import { migrationProvider } from '../../migrations/index.js'
import { migrateToLatest, openDatabase } from '../../src/db/database.js'
import { freshDatabase, ownPostgres, sqlQuery } from '../harness/postgres.js'
import { aWorkflow, startStack } from '../harness/stack.js'
import { openStream, watchEvents } from '../harness/streams.js'
import { archiveArgs, crashedLeader, finished, liveStatus, STATUS, until, WF } from './helpers.js'

/** A stack on a Postgres the test stops and starts, its warnings kept in `lines`. */
async function withOwnPostgres(t: TestContext, args: string[] = [], migrated = false) {
  const pg = await ownPostgres(t)
  if (migrated) await migrateToLatest(pg.url)
  const lines: string[] = []
  const s = await startStack(t, { database: pg.url, args: [...archiveArgs, ...args, '--loglevel', 'warn'], logStream: { write: (l) => void lines.push(l) } })
  return { pg, s, lines }
}

/** The archived row of `name`: the live version it records, and the `reviewed` label the tests change. */
const reviewedRow = async (url: string, name: string) => (await sqlQuery<{ rv: string; reviewed: string | null }>(url,
  "SELECT resourceversion AS rv, workflow->'metadata'->'labels'->>'reviewed' AS reviewed FROM argo_archived_workflows WHERE name = $1", [name]))[0]

const count = async (url: string) => Number((await sqlQuery<{ n: string }>(url, 'SELECT count(*) AS n FROM argo_archived_workflows'))[0]?.n)

test('the server restarted mid-archive: workflows that finished while it was down are archived at start-up', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const runner = startRunner(s.emulator, { stepMs: 10, archiveLabels: true })
  t.after(() => runner.stop())
  for (let i = 0; i < 20; i++) await s.req('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: `r-${i}` }) } })
  await s.stopServer()
  await runner.idle()
  for (let i = 20; i < 30; i++) finished(s, `r-${i}`, { labels: { [STATUS]: 'Pending' } })
  await s.restartServer()
  await until('all 30 archived', async () => (await count(s.databaseUrl as string)) === 30, 20_000)
  await until('all labelled Archived', () => s.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'))
})

test('a change to an archived workflow made while no server ran reaches its row at the next start (Postgres down then too); unchanged rows are not rewritten', async (t) => {
  const { pg, s, lines } = await withOwnPostgres(t, ['--skip-migrations'], true)
  finished(s, 'changed')
  finished(s, 'unchanged')
  await until('archived', () => liveStatus(s, 'changed') === 'Archived' && liveStatus(s, 'unchanged') === 'Archived')
  type Row = { name: string; rv: string; xmin: string; reviewed: string | null }
  const rows = async () => new Map((await sqlQuery<Row>(pg.url,
    "SELECT name, resourceversion AS rv, xmin::text AS xmin, workflow->'metadata'->'labels'->>'reviewed' AS reviewed FROM argo_archived_workflows")).map((r) => [r.name, r]))
  // Each row records the version of the Archived label patch: the live version it is current with.
  await until('rows record the labelled version', async () => (await rows()).get('unchanged')?.rv === s.emulator.get(WF, 'unchanged')?.metadata.resourceVersion)
  const before = await rows()
  await s.stopServer()
  s.emulator.patch(WF, 'changed', { metadata: { labels: { reviewed: 'yes' } } })
  // The next server leads only once Postgres is down (the Lease names a crashed holder for 4 s more): it compares
  // once Postgres is back, not at the next scan a minute on.
  crashedLeader(s, 4)
  await s.restartServer()
  await new Promise((r) => setTimeout(r, 1000))
  await pg.stop()
  await until('the comparison failed', () => lines.some((l) => l.includes('cannot compare archived workflows with their rows')))
  assert.equal(s.server.archive.elector?.leader, true)
  await pg.start()
  await until('the change archived', async () => (await rows().catch(() => new Map<string, Row>())).get('changed')?.reviewed === 'yes', 20_000)
  const after = await rows()
  assert.equal(after.get('changed')?.rv, s.emulator.get(WF, 'changed')?.metadata.resourceVersion)
  assert.equal(after.get('unchanged')?.xmin, before.get('unchanged')?.xmin, 'the unchanged row was not written again')
  assert.equal(liveStatus(s, 'changed'), 'Archived')
})

test('a change made while no server ran reaches the archive even if the workflow is deleted before the next leader compares', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const url = s.databaseUrl as string
  finished(s, 'gone')
  await until('archived', () => liveStatus(s, 'gone') === 'Archived')
  const row = () => reviewedRow(url, 'gone')
  await until('the row current', async () => (await row())?.rv === s.emulator.get(WF, 'gone')?.metadata.resourceVersion)
  await s.stopServer()
  s.emulator.patch(WF, 'gone', { metadata: { labels: { reviewed: 'yes' } } })
  // The next server leads only 4 s on (a crashed holder's Lease); the workflow is deleted (TTL) meanwhile.
  crashedLeader(s, 4)
  await s.restartServer()
  await until('synced', () => s.server.archive.elector?.leader === false)
  await new Promise((r) => setTimeout(r, 500))
  s.emulator.remove(WF, 'gone')
  await until('the change archived from its last state', async () => (await row())?.reviewed === 'yes')
})

test('a change to an archived workflow the leader could not write before stepping down reaches its row after a deletion', async (t) => {
  const { pg, s, lines } = await withOwnPostgres(t)
  finished(s, 'w')
  await until('archived', () => liveStatus(s, 'w') === 'Archived')
  const row = () => reviewedRow(pg.url, 'w')
  await until('the row current', async () => (await row())?.rv === s.emulator.get(WF, 'w')?.metadata.resourceVersion)
  // Changed while its row cannot be written; the leader then loses the Lease, and the workflow is deleted.
  await pg.stop()
  s.emulator.patch(WF, 'w', { metadata: { labels: { reviewed: 'yes' } } })
  await until('the write failed', () => lines.some((l) => l.includes('cannot archive workflow argo/w')), 20_000)
  crashedLeader(s, 4)
  await until('stepped down', () => s.server.archive.elector?.leader === false, 5_000)
  s.emulator.remove(WF, 'w')
  await pg.start()
  // Before, the step-down forgot the change, and nothing was left to find it: the row kept the version before it.
  await until('the change archived from its last state', async () => (await row().catch(() => undefined))?.reviewed === 'yes', 20_000)
})

test('Postgres stopped mid-archive: archiving backs off, logs, and loses nothing once it is back', async (t) => {
  const { pg, s, lines } = await withOwnPostgres(t)
  finished(s, 'before')
  await until('first archived', () => liveStatus(s, 'before') === 'Archived')
  await pg.stop()
  for (let i = 0; i < 10; i++) finished(s, `during-${i}`)
  await until('backoff logged', () => lines.some((l) => l.includes('retrying in')), 20_000)
  assert.equal(liveStatus(s, 'during-0'), 'Pending')
  // Deleted while Postgres is down: only the DELETED event's last state is left to archive.
  finished(s, 'deleted-during')
  // Seen by the server (its watch stream has it), so only the DELETED event's last state is left to archive.
  const seen = await openStream(s, '/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3Ddeleted-during')
  await seen.until(() => watchEvents(seen).length > 0)
  seen.close()
  s.emulator.remove(WF, 'deleted-during')
  // Every read that needs the archive says it is unavailable: the workflow list too, rather than a page of the live
  // workflows alone that looks complete.
  for (const path of ['/api/v1/archived-workflows', '/api/v1/workflows/argo', '/api/v1/workflows/argo?listOptions.limit=2']) {
    const down = await s.json<{ code: number; message: string }>(path)
    assert.deepEqual([path, down.status, down.body], [path, 503, { code: 14, message: 'the archive database is unavailable' }])
  }
  // Long enough for the wait to grow to several seconds: 11 writes failing at once must count as one failure
  // (before, each doubled the wait: 60 s within 3 s, and every queued write then slept that long).
  await until('the wait grown to 4 s', () => lines.some((l) => l.includes('retrying in 4000 ms')), 30_000)
  assert.ok(!lines.some((l) => /retrying in (8000|[1-9]\d{4,}) ms/.test(l)), 'the wait doubled per probe, not per failed write')
  await pg.start()
  // Within the backoff cap (10 s) of Postgres' return, not a minute later.
  await until('all archived after the outage', async () => (await count(pg.url).catch(() => 0)) === 12, 15_000)
  const rows = await sqlQuery<{ name: string }>(pg.url, "SELECT name FROM argo_archived_workflows WHERE name = 'deleted-during'")
  assert.equal(rows.length, 1)
  await until('labels', () => s.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'), 15_000)
})

test('Postgres down when the server starts (migrations skipped): it starts, and archives once Postgres is back', async (t) => {
  const pg = await ownPostgres(t)
  await migrateToLatest(pg.url)
  await pg.stop()
  const s = await startStack(t, { database: pg.url, args: [...archiveArgs, '--skip-migrations'] })
  assert.equal((await s.json('/api/v1/info')).status, 200)
  finished(s, 'early', { labels: { team: 'x' } })
  assert.equal((await s.json('/api/v1/archived-workflows')).status, 503)
  await pg.start()
  await until('archived after Postgres came back', () => liveStatus(s, 'early') === 'Archived', 60_000)
  const page = await s.json<{ items: { metadata: { name: string } }[] | null }>('/api/v1/archived-workflows?listOptions.labelSelector=team%3Dx')
  assert.deepEqual(page.body.items?.map((w) => w.metadata.name), ['early'])
})

test('Postgres down when the server starts on a new database: it starts, migrates once Postgres is back, and archives', async (t) => {
  const pg = await ownPostgres(t)
  await pg.stop()
  const s = await startStack(t, { database: pg.url, args: archiveArgs })
  assert.equal((await s.json('/api/v1/info')).status, 200)
  assert.equal((await s.json('/api/v1/workflows/argo')).status, 503, 'the list needs the archive')
  // The stack is up, so the first migration attempt has already failed: the server started without its tables.
  finished(s, 'before-migrations')
  await pg.start()
  await until('archived after the migrations ran', () => liveStatus(s, 'before-migrations') === 'Archived', 60_000)
  const tables = await sqlQuery<{ n: string }>(pg.url, "SELECT count(*) AS n FROM kysely_migration")
  assert.ok(Number(tables[0]?.n) >= 3)
  assert.equal((await s.json<{ items: unknown[] }>('/api/v1/archived-workflows')).body.items.length, 1)
})

test('migrations skipped on a database without them (all, or this server\'s): a start error naming them', async (t) => {
  // Before, the server started and every archive write failed forever on a missing column; an empty database
  // answered every list with 500.
  const message = (names: string) => new RegExp(`archive: migrations are skipped \\(--skip-migrations or persistence.skipMigration\\), but the database lacks ${names}: start once without skipping them$`)
  await assert.rejects(startStack(t, { database: await freshDatabase(), args: ['--skip-migrations'] }),
    message('0001_upstream_archive, 0002_resource_version_and_keyset, 0003_label_copies, 0004_offload_table'))
  const partly = await freshDatabase()
  const db = openDatabase(partly)
  await new Migrator({ db: db.kysely, provider: migrationProvider() }).migrateTo('0002_resource_version_and_keyset')
  await db.close()
  await assert.rejects(startStack(t, { database: partly, args: ['--skip-migrations'] }), message('0003_label_copies, 0004_offload_table'))
  // A table dropped under a running server: reads say what is wrong instead of a bare "internal error" (Postgres's
  // own text, naming the table, goes to the log only).
  const s = await startStack(t, { database: true })
  await sqlQuery(s.databaseUrl as string, 'DROP TABLE argo_archived_workflows_labels')
  const r = await s.json<{ code: number; message: string }>('/api/v1/archived-workflows?listOptions.labelSelector=team%3Dx')
  assert.deepEqual([r.status, r.body.code], [500, 13])
  assert.equal(r.body.message, "the archive database lacks this server's schema")
})

test('a migration waits at most 10 s behind a long transaction instead of freezing the archive, then succeeds on the next start', async (t) => {
  const url = await freshDatabase()
  const db = openDatabase(url)
  t.after(() => db.close())
  assert.equal((await new Migrator({ db: db.kysely, provider: migrationProvider() }).migrateTo('0002_resource_version_and_keyset')).error, undefined)
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.after(() => holder.end())
  await holder.query('BEGIN; SELECT count(*) FROM argo_archived_workflows_labels') // a long reader holds ACCESS SHARE
  const t0 = Date.now()
  await assert.rejects(startStack(t, { database: url }), /0003_label_copies failed: canceling statement due to lock timeout/)
  assert.ok(Date.now() - t0 < 30_000)
  // Meanwhile reads were not queued behind the migration: the holder's table stays readable by others.
  assert.equal((await sqlQuery(url, 'SELECT count(*) AS n FROM argo_archived_workflows_labels'))[0]?.n, '0')
  await holder.query('COMMIT')
  const s = await startStack(t, { database: url })
  assert.equal((await s.json('/api/v1/archived-workflows')).status, 200)
})

test('a workflow deleted right after it finished is archived from its DELETED event', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  // A stalled label patch keeps it Pending while it is deleted (as kubectl delete racing the archiver).
  s.emulator.fault({ method: 'PATCH', path: /workflows\/gone/, status: 500, times: Infinity })
  const wf = finished(s, 'gone')
  await new Promise((r) => setTimeout(r, 300))
  s.emulator.remove(WF, 'gone')
  await until('archived', async () => (await count(s.databaseUrl as string)) === 1)
  const got = await s.json<{ metadata: { uid: string } }>('/api/v1/workflows/argo/gone')
  assert.equal(got.body.metadata.uid, wf.metadata.uid)
})

test('a workflow completed without status.finishedAt is archived too, finished when it was archived', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const before = Date.now()
  s.emulator.create(WF, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name: 'no-finish', labels: { 'workflows.argoproj.io/completed': 'true' } },
    spec: { entrypoint: 'main' }, status: { phase: 'Failed', startedAt: '2026-03-01T00:00:00Z', message: 'driver never set finishedAt' },
  })
  await until('archived', () => liveStatus(s, 'no-finish') === 'Archived')
  const [row] = await sqlQuery<{ finishedat: Date; phase: string }>(s.databaseUrl as string, "SELECT finishedat, phase FROM argo_archived_workflows WHERE name = 'no-finish'")
  assert.equal(row?.phase, 'Failed')
  assert.ok((row?.finishedat.getTime() ?? 0) >= before - 1000, String(row?.finishedat))
})

test('two replicas: one Lease holder archives, no duplicates, the other takes over when it dies', async (t) => {
  const a = await startStack(t, { database: true, args: archiveArgs })
  await until('a leads', () => a.server.archive.elector?.leader)
  const b = await a.startReplica()
  const url = a.databaseUrl as string
  for (let i = 0; i < 10; i++) finished(a, `x-${i}`)
  await until('archived', async () => (await count(url)) === 10)
  assert.equal(b.archive.elector?.leader, false)
  const lease = a.emulator.get({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'argo' }, 'argo-server-archiver')
  assert.equal((lease?.spec as { holderIdentity?: string }).holderIdentity, a.server.archive.elector?.identity)
  // The leader dies without releasing the Lease: the other replica waits for it to expire, then archives.
  await a.stopServer()
  // As if it had crashed: the Lease still names a holder, freshly renewed.
  crashedLeader(a, 2)
  // An archived workflow changed while nobody leads: b saw it following, and writes it once it leads.
  a.emulator.patch(WF, 'x-0', { metadata: { labels: { reviewed: 'yes' } } })
  await new Promise((r) => setTimeout(r, 1000))
  assert.equal(b.archive.elector?.leader, false)
  await until('b takes over', () => b.archive.elector?.leader, 10_000)
  await until('the change archived', async () => (await sqlQuery<{ r: string | null }>(url, "SELECT workflow->'metadata'->'labels'->>'reviewed' AS r FROM argo_archived_workflows WHERE name = 'x-0'"))[0]?.r === 'yes', 5_000)
  for (let i = 10; i < 15; i++) finished(a, `x-${i}`)
  await until('archived after takeover', async () => (await count(url)) === 15)
  await until('labelled', () => a.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'))
  assert.equal(Number((await sqlQuery<{ n: string }>(url, 'SELECT count(DISTINCT uid) AS n FROM argo_archived_workflows'))[0]?.n), 15)
})

test('an older resourceVersion never overwrites a newer archived row', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const wf = finished(s, 'versions', { message: 'first' })
  await until('archived', () => liveStatus(s, 'versions') === 'Archived')
  const url = s.databaseUrl as string
  await sqlQuery(url, 'UPDATE argo_archived_workflows SET resourceversion = resourceversion + 1000')
  // A retry-like change makes it eligible again with an older version than the row now claims.
  s.emulator.patch(WF, 'versions', { metadata: { labels: { [STATUS]: null } }, status: { message: 'second' } })
  await until('handled', () => liveStatus(s, 'versions') === 'Archived' || undefined, 10_000).catch(() => undefined)
  await new Promise((r) => setTimeout(r, 500))
  const row = await sqlQuery<{ m: string }>(url, "SELECT workflow->'status'->>'message' AS m FROM argo_archived_workflows WHERE uid = $1", [wf.metadata.uid])
  assert.equal(row[0]?.m, 'first')
})

test('migrations are idempotent and safe for replicas starting together; TTL deletes expired rows in batches', async (t) => {
  const url = await freshDatabase()
  const stacks = await Promise.all([0, 1, 2].map(() => startStack(t, { database: url, args: [...archiveArgs, '--archive-ttl', '1d'] })))
  const s = stacks[0]!
  const applied = await sqlQuery<{ name: string }>(url, 'SELECT name FROM kysely_migration ORDER BY name')
  assert.deepEqual(applied.map((r) => r.name), ['0001_upstream_archive', '0002_resource_version_and_keyset', '0003_label_copies', '0004_offload_table'])
  assert.deepEqual(await sqlQuery(url, 'SELECT schema_version FROM schema_history'), [{ schema_version: 68 }])
  // An empty archive gets the label index at once (no backfill to wait for).
  assert.equal((await sqlQuery(url, "SELECT 1 FROM argo_server_backfills WHERE name = 'label_copies'")).length, 1)
  assert.equal((await sqlQuery(url, "SELECT 1 FROM pg_class WHERE relname LIKE 'argo_archived_workflows_labels_%keyset'")).length, 2)
  await sqlQuery(url, `INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid)
    SELECT 'old-' || i, 'old-' || i, 'Succeeded', 'argo', '{"metadata":{}}', now() - interval '3 days', now() - interval '2 days', 'default', ''
    FROM generate_series(1, 1200) i`)
  finished(s, 'fresh', { finishedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') })
  await until('fresh archived', () => liveStatus(s, 'fresh') === 'Archived')
  await s.restartServer() // GC runs when a replica becomes leader
  await until('expired rows gone', async () => (await count(url)) === 1, 20_000)
})

test('retry and resubmit of archived workflows', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const failed = finished(s, 'flaky', { phase: 'Failed', labels: { team: 'x' } })
  await until('archived', () => liveStatus(s, 'flaky') === 'Archived')
  const uid = failed.metadata.uid as string
  const conflict = await s.json(`/api/v1/archived-workflows/${uid}/retry`, { method: 'PUT', json: {} })
  assert.deepEqual(conflict.body, { code: 6, message: 'Workflow already exists on cluster, use argo retry flaky instead' })
  const resub = await s.json<{ metadata: { name: string; labels: Record<string, string> } }>(`/api/v1/archived-workflows/${uid}/resubmit`, { method: 'PUT', json: { parameters: ['p=w'] } })
  assert.equal(resub.status, 200)
  assert.match(resub.body.metadata.name, /^flaky-/)
  assert.equal(resub.body.metadata.labels['workflows.argoproj.io/resubmitted-from-workflow'], 'flaky')
  assert.equal(resub.body.metadata.labels[STATUS], undefined)
  // Into the body's namespace (as upstream), without owners there; a retry elsewhere is 400 and creates nothing.
  const owned = finished(s, 'owned', { phase: 'Failed' })
  s.emulator.patch({ ...WF, namespace: 'argo' }, 'owned', { metadata: { ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', name: 'c', uid: 'c-uid' }] } })
  await until('archived', () => liveStatus(s, 'owned') === 'Archived')
  const moved = await s.json<{ metadata: { namespace: string; ownerReferences?: unknown } }>(`/api/v1/archived-workflows/${owned.metadata.uid as string}/resubmit`, { method: 'PUT', json: { namespace: 'default' } })
  assert.equal(moved.status, 200, JSON.stringify(moved.body))
  assert.equal(moved.body.metadata.namespace, 'default')
  assert.equal(moved.body.metadata.ownerReferences, undefined)
  const here = await s.json<{ metadata: { namespace: string; ownerReferences?: unknown[] } }>(`/api/v1/archived-workflows/${owned.metadata.uid as string}/resubmit`, { method: 'PUT', json: {} })
  assert.equal(here.body.metadata.namespace, 'argo')
  assert.equal(here.body.metadata.ownerReferences?.length, 1)
  s.emulator.remove(WF, 'owned')
  // As upstream, a live workflow of that name in the body's namespace is a conflict first.
  s.emulator.create({ ...WF, namespace: 'default' }, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'owned' }, spec: {} })
  const taken = await s.json<{ code: number }>(`/api/v1/archived-workflows/${owned.metadata.uid as string}/retry`, { method: 'PUT', json: { namespace: 'default' } })
  assert.equal(taken.status, 409)
  assert.equal(taken.body.code, 6)
  s.emulator.remove({ ...WF, namespace: 'default' }, 'owned')
  const elsewhere = await s.json<{ code: number }>(`/api/v1/archived-workflows/${owned.metadata.uid as string}/retry`, { method: 'PUT', json: { namespace: 'default' } })
  assert.equal(elsewhere.status, 400)
  assert.equal(elsewhere.body.code, 3)
  assert.equal(s.emulator.get({ ...WF, namespace: 'default' }, 'owned'), undefined)
  assert.equal(s.emulator.get(WF, 'owned'), undefined)
  // A resubmit is validated like every create (upstream: util.SubmitWorkflow): 400, and nothing is created.
  await sqlQuery(s.databaseUrl as string, `INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid)
    VALUES ('bad-uid', 'bad', 'Failed', 'argo', '{"metadata":{"name":"bad","namespace":"argo","uid":"bad-uid"},"spec":{"entrypoint":5},"status":{"phase":"Failed"}}',
      now(), now(), 'default', '')`)
  const before = s.emulator.list(WF).length
  const invalid = await s.json<{ code: number; message: string }>('/api/v1/archived-workflows/bad-uid/resubmit', { method: 'PUT', json: {} })
  assert.equal(invalid.status, 400)
  assert.equal(invalid.body.code, 3)
  assert.match(invalid.body.message, /entrypoint/)
  assert.equal(s.emulator.list(WF).length, before)
  s.emulator.remove(WF, 'flaky')
  const retried = await s.json<{ metadata: { name: string }; status: { phase: string; nodes: Record<string, unknown> } }>(`/api/v1/archived-workflows/${uid}/retry`, { method: 'PUT', json: {} })
  assert.equal(retried.status, 200)
  assert.equal(retried.body.status.phase, 'Running')
  assert.deepEqual(retried.body.status.nodes, {})
  const succeeded = finished(s, 'fine')
  await until('archived', () => liveStatus(s, 'fine') === 'Archived')
  s.emulator.remove(WF, 'fine')
  assert.equal((await s.json(`/api/v1/archived-workflows/${succeeded.metadata.uid as string}/retry`, { method: 'PUT', json: {} })).status, 400)
})
