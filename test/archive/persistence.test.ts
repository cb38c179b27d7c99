import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freshDatabase, ownPostgres, sqlQuery, withDatabase } from '../harness/postgres.js'
import type { Emulator } from '../../emulator/index.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, finished, liveStatus, until } from './helpers.js'

const b64 = (v: string) => Buffer.from(v).toString('base64')
type Page = { items: { metadata: { name: string; uid: string; creationTimestamp?: string } }[] | null }

test('the configmap\'s persistence block: credentials from Secrets, clusterName, tableName, archiveLabelSelector, ssl against a self-signed Postgres', async (t) => {
  const pg = await ownPostgres(t, { tls: true })
  const password = 'p@ss:w/rd%20#?&x'
  await sqlQuery(pg.url, `CREATE ROLE archivist LOGIN PASSWORD '${password}'`)
  await sqlQuery(pg.url, 'CREATE DATABASE argo_archive OWNER archivist')
  const persistence = `archive: true
clusterName: east
archiveLabelSelector:
  matchLabels: {archive: "yes"}
postgresql:
  host: 127.0.0.1
  port: ${new URL(pg.url).port}
  database: argo_archive
  tableName: my_offload
  userNameSecret: {name: argo-postgres-config, key: username}
  passwordSecret: {name: argo-postgres-config, key: password}
  ssl: true
`
  const s = await startStack(t, {
    args: archiveArgs,
    before: (e) => {
      e.create({ group: '', resource: 'secrets', namespace: 'argo' }, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'argo-postgres-config' }, data: { username: b64('archivist'), password: b64(password) } })
      e.create({ group: '', resource: 'configmaps', namespace: 'argo' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' }, data: { persistence } })
    },
  })
  const db = withDatabase(pg.url, 'argo_archive')
  finished(s, 'not-selected')
  finished(s, 'selected', { labels: { archive: 'yes' } })
  await until('archived', () => liveStatus(s, 'selected') === 'Archived')
  assert.deepEqual(await sqlQuery(db, 'SELECT name, clustername FROM argo_archived_workflows'), [{ name: 'selected', clustername: 'east' }])
  assert.equal(liveStatus(s, 'not-selected'), undefined)
  assert.deepEqual((await s.json<Page>('/api/v1/archived-workflows')).body.items?.map((w) => w.metadata.name), ['selected'])
  // Encrypted, as libpq's sslmode=require: the self-signed certificate is not verified (pg's own require refuses it).
  const sessions = await sqlQuery<{ ssl: boolean }>(pg.url, "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'archivist'")
  assert.ok(sessions.length > 0 && sessions.every((r) => r.ssl), JSON.stringify(sessions))
  // An upstream controller sharing the database finds its offload table under the configured name (only that one,
  // as its own migrations create), and its migrations marked done.
  await sqlQuery(db, "INSERT INTO my_offload (uid, namespace, clustername, version, nodes) VALUES ('u1', 'argo', 'east', 'fnv:1', '{}')")
  assert.deepEqual(await sqlQuery(db, "SELECT to_regclass('argo_workflows') AS t"), [{ t: null }])
  assert.deepEqual(await sqlQuery(db, 'SELECT schema_version FROM schema_history'), [{ schema_version: 68 }])
})

/** An archive as Argo 3.5's controller leaves it: `workflow` json, no creationtimestamp, the older i1 and i4. */
const ARGO_3_5 = [
  'CREATE TABLE schema_history (schema_version int NOT NULL)',
  'INSERT INTO schema_history VALUES (59)',
  `CREATE TABLE argo_workflows (uid varchar(128) NOT NULL, namespace varchar(256) NOT NULL, creationtimestamp timestamp DEFAULT CURRENT_TIMESTAMP,
    clustername varchar(64) NOT NULL, version varchar(64) NOT NULL, nodes json NOT NULL, updatedat timestamp NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (clustername, uid, version))`,
  'CREATE INDEX argo_workflows_i1 ON argo_workflows (clustername, namespace, updatedat)',
  `CREATE TABLE argo_archived_workflows (uid varchar(128) NOT NULL, name varchar(256) NOT NULL, phase varchar(25) NOT NULL, namespace varchar(256) NOT NULL,
    workflow json NOT NULL, startedat timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, finishedat timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clustername varchar(64) NOT NULL, instanceid varchar(64) NOT NULL, CONSTRAINT argo_archived_workflows_pkey PRIMARY KEY (clustername, uid))`,
  'CREATE INDEX argo_archived_workflows_i1 ON argo_archived_workflows (clustername, instanceid, namespace)',
  'CREATE INDEX argo_archived_workflows_i2 ON argo_archived_workflows (clustername, instanceid, finishedat)',
  'CREATE INDEX argo_archived_workflows_i3 ON argo_archived_workflows (clustername, instanceid, name)',
  'CREATE INDEX argo_archived_workflows_i4 ON argo_archived_workflows (startedat)',
  `CREATE TABLE argo_archived_workflows_labels (clustername varchar(64) NOT NULL, uid varchar(128) NOT NULL, name varchar(317) NOT NULL, value varchar(63) NOT NULL,
    PRIMARY KEY (clustername, uid, name), FOREIGN KEY (clustername, uid) REFERENCES argo_archived_workflows (clustername, uid) ON DELETE CASCADE)`,
  'CREATE INDEX argo_archived_workflows_labels_i1 ON argo_archived_workflows_labels (name, value)',
]

test('an archive an older upstream controller migrated (Argo 3.5) is brought to step 68 and read as it is', async (t) => {
  const url = await freshDatabase()
  for (const q of ARGO_3_5) await sqlQuery(url, q)
  for (const [i, name] of ['old-a', 'old-b'].entries()) {
    const uid = `00000000-0000-0000-0000-00000000000${i}`
    const wf = { metadata: { name, namespace: 'argo', uid, creationTimestamp: `2025-01-0${i + 1}T00:00:00Z`, labels: { team: 'a', 'workflows.argoproj.io/workflow-archiving-status': 'Persisted' } },
      spec: { entrypoint: 'main' }, status: { phase: 'Succeeded', startedAt: `2025-01-0${i + 1}T00:00:00Z`, finishedAt: `2025-01-0${i + 1}T00:01:00Z` } }
    await sqlQuery(url, `INSERT INTO argo_archived_workflows (clustername, instanceid, uid, name, namespace, phase, startedat, finishedat, workflow)
      VALUES ('default', '', $1, $2, 'argo', 'Succeeded', $3, $4, $5)`, [uid, name, wf.status.startedAt, wf.status.finishedAt, JSON.stringify(wf)])
    await sqlQuery(url, "INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value) VALUES ('default', $1, 'team', 'a')", [uid])
  }
  const s = await startStack(t, { database: url, args: archiveArgs })
  const page = (await s.json<Page>('/api/v1/archived-workflows?listOptions.labelSelector=team%3Da')).body
  assert.deepEqual(page.items?.map((w) => [w.metadata.name, w.metadata.creationTimestamp]), [['old-b', '2025-01-02T00:00:00Z'], ['old-a', '2025-01-01T00:00:00Z']])
  assert.equal((await s.json<{ metadata: { name: string } }>('/api/v1/archived-workflows/00000000-0000-0000-0000-000000000000')).body.metadata.name, 'old-a')
  // upstream's step 66: the new column filled from startedat
  assert.deepEqual(await sqlQuery(url, "SELECT count(*)::int AS n FROM argo_archived_workflows WHERE creationtimestamp = startedat"), [{ n: 2 }])
  const columns = await sqlQuery(url, `SELECT column_name, data_type FROM information_schema.columns
    WHERE table_name = 'argo_archived_workflows' AND column_name IN ('workflow', 'creationtimestamp') ORDER BY column_name`)
  assert.deepEqual(columns, [{ column_name: 'creationtimestamp', data_type: 'timestamp without time zone' }, { column_name: 'workflow', data_type: 'jsonb' }])
  const indexes = await sqlQuery<{ indexdef: string }>(url, "SELECT indexdef FROM pg_indexes WHERE indexname IN ('argo_archived_workflows_i1', 'argo_archived_workflows_i4', 'argo_archived_workflows_i5') ORDER BY indexname")
  assert.deepEqual(indexes.map((r) => r.indexdef.replace(/^.* USING btree /, '')), ['(clustername, instanceid, namespace, startedat DESC)', '(clustername, startedat)', '(creationtimestamp)'])
  assert.deepEqual(await sqlQuery(url, 'SELECT schema_version FROM schema_history'), [{ schema_version: 68 }])
})

test('an archive from before upstream\'s labels table stops the start with what to do', async (t) => {
  const url = await freshDatabase()
  await sqlQuery(url, 'CREATE TABLE schema_history (schema_version int NOT NULL)')
  await sqlQuery(url, 'INSERT INTO schema_history VALUES (30)')
  await assert.rejects(startStack(t, { database: url }), /database migration 0001_upstream_archive failed: the archive's schema is at upstream step 30, before its labels table: migrate it with an upstream workflow controller first/)
})

test('archiving follows the configmap while running, as upstream\'s controller does: a changed archiveLabelSelector', async (t) => {
  const CM = { group: '', resource: 'configmaps', namespace: 'argo' }
  const s = await startStack(t, {
    database: true, args: archiveArgs,
    before: (e) => void e.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' },
      data: { persistence: 'archive: true\narchiveLabelSelector:\n  matchLabels: {archive: "yes"}\n' } }),
  })
  finished(s, 'unlabelled')
  finished(s, 'labelled', { labels: { archive: 'yes' } })
  await until('labelled archived', () => liveStatus(s, 'labelled') === 'Archived')
  assert.equal(liveStatus(s, 'unlabelled'), undefined)
  s.emulator.patch(CM, 'workflow-controller-configmap', { data: { persistence: 'archive: true\n' } })
  await until('unlabelled archived once the selector is gone', () => liveStatus(s, 'unlabelled') === 'Archived')
})

test('a persistence block with a mistake stops the start naming the key; a selector that is not valid label syntax is never another selector', async (t) => {
  const CM = { group: '', resource: 'configmaps', namespace: 'argo' }
  const withPersistence = (persistence: string, database = true) => ({
    database,
    before: (e: Emulator) => void e.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' }, data: { persistence } }),
  })
  const cases: [string, RegExp][] = [
    // was read as `keep != yes`, archiving every workflow without the label
    ['archive: true\narchiveLabelSelector:\n  matchLabels: {"keep!": "yes"}\n', /persistence\.archiveLabelSelector: .*key: Invalid value: "keep!"/],
    // was read as `team in (a,b)`
    ['archive: true\narchiveLabelSelector:\n  matchExpressions: [{key: team, operator: In, values: ["a,b"]}]\n', /persistence\.archiveLabelSelector: .*Invalid value: "a,b"/],
    ['archive: true\narchiveLabelSelector:\n  matchExpressions: [{key: team, operator: In}]\n', /persistence\.archiveLabelSelector: .*values set can't be empty/],
    ['archive: true\narchiveLabelSelector:\n  matchExpressions: [{key: team, operator: in, values: [a]}]\n', /persistence\.archiveLabelSelector: "in" is not a valid label selector operator/],
    ['archiv: true\n', /persistence.*archiv/],
    ['archiveTTL: ten days\n', /persistence\.archiveTTL: invalid duration "ten days"/],
    ['postgresql:\n  host: localhost\n  hots: x\n', /persistence\.postgresql.*hots/],
    ['postgresql:\n  host: localhost\n  port: fivefourthreetwo\n', /persistence\.postgresql\.port: expected a port/],
    ['postgresql:\n  host: localhost\n  port: 70000\n', /persistence\.postgresql\.port: expected a port/],
  ]
  for (const [persistence, message] of cases) await assert.rejects(startStack(t, withPersistence(persistence)), message, persistence)
  // A Secret that is not there is named as missing (not as a missing key).
  await assert.rejects(startStack(t, withPersistence('postgresql:\n  host: 127.0.0.1\n  userNameSecret: {name: nope, key: username}\n', false)), /persistence: secret argo\/nope not found/)

  // Changed so while running: the settings before are kept (the unlabelled workflow stays unarchived).
  const s = await startStack(t, { ...withPersistence('archive: true\narchiveLabelSelector:\n  matchLabels: {keep: "yes"}\n'), args: archiveArgs })
  s.emulator.patch(CM, 'workflow-controller-configmap', { data: { persistence: 'archive: true\narchiveLabelSelector:\n  matchLabels: {"keep!": "yes"}\n' } })
  await new Promise((r) => setTimeout(r, 500))
  finished(s, 'unlabelled')
  finished(s, 'kept', { labels: { keep: 'yes' } })
  await until('kept archived', () => liveStatus(s, 'kept') === 'Archived')
  assert.equal(liveStatus(s, 'unlabelled'), undefined)

  // `sslMode` without `ssl: true` is not used, as upstream (logged): a Postgres without TLS is reached.
  const plain = new URL((await ownPostgres(t)).url)
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pg' }, data: { username: b64(decodeURIComponent(plain.username)), password: b64(decodeURIComponent(plain.password)) } }
  const s2 = await startStack(t, {
    args: archiveArgs,
    before: (e) => {
      e.create({ group: '', resource: 'secrets', namespace: 'argo' }, secret)
      e.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' }, data: { persistence: `archive: true
postgresql:
  host: 127.0.0.1
  port: ${plain.port}
  database: ${plain.pathname.slice(1)}
  userNameSecret: {name: pg, key: username}
  passwordSecret: {name: pg, key: password}
  sslMode: require
` } })
    },
  })
  finished(s2, 'plain')
  await until('archived without TLS', () => liveStatus(s2, 'plain') === 'Archived')
})

test('credentials the archive database stops accepting (a rotated password) make reads 503 code 14, not 500', async (t) => {
  const pg = await ownPostgres(t)
  await sqlQuery(pg.url, "CREATE ROLE rotated LOGIN PASSWORD 'before'")
  await sqlQuery(pg.url, 'CREATE DATABASE rot OWNER rotated')
  const url = new URL(pg.url)
  Object.assign(url, { username: 'rotated', password: 'before', pathname: '/rot' })
  const s = await startStack(t, { database: url.toString() })
  assert.equal((await s.json('/api/v1/archived-workflows')).status, 200)
  await sqlQuery(pg.url, "ALTER ROLE rotated PASSWORD 'after'")
  await sqlQuery(pg.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotated'")
  const r = await s.json<{ code: number; message: string }>('/api/v1/archived-workflows')
  assert.deepEqual([r.status, r.body.code], [503, 14], r.body.message)
  assert.match(r.body.message, /refuses the server's credentials/)
})

test('DATABASE_URL\'s sslmode means what it means to libpq: require encrypts without verifying, prefer falls back to plain', async (t) => {
  const tls = await ownPostgres(t, { tls: true })
  await sqlQuery(tls.url, "CREATE ROLE viaurl LOGIN PASSWORD 'pw'")
  await sqlQuery(tls.url, 'CREATE DATABASE via_url OWNER viaurl')
  const u = new URL(tls.url)
  // A self-signed certificate, as RDS's private CA or an in-cluster Postgres: pg's own require refused it at start.
  const s = await startStack(t, { database: `postgres://viaurl:pw@${u.host}/via_url?sslmode=require`, args: archiveArgs })
  finished(s, 'over-tls')
  await until('archived', () => liveStatus(s, 'over-tls') === 'Archived')
  const sessions = await sqlQuery<{ ssl: boolean }>(tls.url, "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'viaurl'")
  assert.ok(sessions.length > 0 && sessions.every((r) => r.ssl), JSON.stringify(sessions))
  // prefer against a Postgres without TLS: plain, as libpq (pg's own prefer refused to connect).
  const plain = await startStack(t, { database: `${await freshDatabase()}?sslmode=prefer`, args: archiveArgs })
  finished(plain, 'in-plain')
  await until('archived in plain', () => liveStatus(plain, 'in-plain') === 'Archived')
  await assert.rejects(startStack(t, { database: `${await freshDatabase()}?sslmode=sometimes` }),
    /database URL: sslmode "sometimes" is not one of disable, allow, prefer, require, verify-ca, verify-full/)
})
