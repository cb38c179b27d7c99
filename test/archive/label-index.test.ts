import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Migrator } from 'kysely'
import { migrationProvider } from '../../migrations/index.js'
import { ArchiveReader, listSql } from '../../src/archive/archive-read-repository.js'
import type { ArchiveFilter } from '../../src/archive/types.js'
import { openDatabase } from '../../src/db/database.js'
import { parseLabelSelector } from '../../src/lib/label-selector.js'
import { freshDatabase, sqlQuery } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { until } from './helpers.js'

type List = { metadata: { continue?: string }; items: { metadata: { name: string } }[] | null }

/** Rows as upstream's controller writes them: the workflow, then its labels without our finishedat copy. */
const upstreamRows = (from: number, to: number) => `
  INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid)
    SELECT 'u-' || i, 'wf-' || i, 'Succeeded', CASE WHEN i % 3 = 0 THEN 'other' ELSE 'argo' END,
      jsonb_build_object('metadata', jsonb_build_object('name', 'wf-' || i)),
      timestamp '2026-01-01' + (i / 2) * interval '1 minute', timestamp '2026-01-01' + (i / 2) * interval '1 minute' + interval '30 seconds', 'default', ''
    FROM generate_series(${from}, ${to - 1}) i;
  INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value)
    SELECT 'default', 'u-' || i, l.n, l.v FROM generate_series(${from}, ${to - 1}) i
    CROSS JOIN LATERAL (VALUES ('team', 'team-' || (i % 5)), ('tier', CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END)) AS l(n, v)
    UNION ALL SELECT 'default', 'u-' || i, 'rare', 'yes' FROM generate_series(${from}, ${to - 1}) i WHERE i = ${from + 7}`

const scope = { clusterName: 'default', instanceId: '', managedNamespace: '' }

test('label copies: an archive written before migration 0003 is backfilled; both page plans return the same rows; the copies follow upstream-style writes', async (t) => {
  const url = await freshDatabase()
  const db = openDatabase(url)
  t.after(() => db.close())
  const migrated = await new Migrator({ db: db.kysely, provider: migrationProvider() }).migrateTo('0002_resource_version_and_keyset')
  assert.equal(migrated.error, undefined)
  await sqlQuery(url, upstreamRows(0, 2500)) // more than two backfill batches of 1,000 workflows

  const s = await startStack(t, { database: url })
  await until('backfill marker', async () => (await sqlQuery(url, "SELECT 1 FROM argo_server_backfills WHERE name = 'label_copies'")).length > 0, 30_000)
  const stale = await sqlQuery<{ n: string }>(url, `SELECT count(*) AS n FROM argo_archived_workflows_labels l JOIN argo_archived_workflows w USING (clustername, uid)
    WHERE l.finishedat IS DISTINCT FROM w.finishedat OR l.namespace IS DISTINCT FROM w.namespace`)
  assert.equal(stale[0]?.n, '0')
  const indexes = await sqlQuery(url, `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relname LIKE 'argo_archived_workflows_labels_%keyset' ORDER BY 1`)
  assert.deepEqual(indexes, [{ name: 'argo_archived_workflows_labels_keyset', valid: true }, { name: 'argo_archived_workflows_labels_ns_keyset', valid: true }])

  // Both plans (probing labels per workflow; reading one label's index range) give the same rows in the same order.
  const filters: Partial<ArchiveFilter>[] = [
    { labels: parseLabelSelector('team=team-2') },
    { labels: parseLabelSelector('team in (team-2),tier=odd'), namespace: 'argo' },
    { labels: parseLabelSelector('tier==even,team!=team-1'), limit: 7, offset: 20 },
    { labels: parseLabelSelector('rare=yes') },
    { labels: parseLabelSelector('team=team-3'), after: { group: 1, time: Date.parse('2026-01-01T05:00:30Z'), uid: 'u-600' } },
    { labels: parseLabelSelector('team=nobody') },
    { labels: parseLabelSelector('tier=odd'), namespace: 'other', limit: 9 },
    { labels: parseLabelSelector('tier=odd'), namespace: 'other', namespaceNot: true, after: { group: 1, time: Date.parse('2026-01-01T10:00:30Z'), uid: 'u-1201' } },
    { labels: parseLabelSelector('team=team-4'), namespace: 'other', after: { group: 1, time: Date.parse('2026-01-01T10:00:30Z'), uid: 'u-1201' } },
  ]
  for (const partial of filters) {
    const f: ArchiveFilter = { namespace: '', labels: [], limit: 51, ...partial }
    const run = async (labelIndex: boolean) => {
      const q = listSql(scope, f, labelIndex).compile(db.kysely)
      return (await sqlQuery<{ name: string }>(url, q.sql, [...q.parameters])).map((r) => r.name)
    }
    const [probing, indexed] = [await run(false), await run(true)]
    assert.deepEqual(indexed, probing, JSON.stringify(partial))
  }

  // Over HTTP: keyset pages through the label index cover every matching row once, in order.
  const expected = (await sqlQuery<{ name: string }>(url, `SELECT w.name FROM argo_archived_workflows w JOIN argo_archived_workflows_labels l USING (clustername, uid)
    WHERE l.name = 'team' AND l.value = 'team-2' ORDER BY w.finishedat DESC, w.uid`)).map((r) => r.name)
  const seen: string[] = []
  let next = ''
  do {
    const page = await s.json<List>(`/api/v1/archived-workflows?listOptions.labelSelector=team%3Dteam-2&listOptions.limit=150${next ? `&listOptions.continue=${next}` : ''}`)
    assert.equal(page.status, 200)
    seen.push(...(page.body.items ?? []).map((w) => w.metadata.name))
    next = page.body.metadata.continue ?? ''
  } while (next)
  assert.equal(expected.length, 500)
  assert.deepEqual(seen, expected)

  // An upstream controller writing after the migration: the trigger fills the copy, a re-archive moves it.
  await sqlQuery(url, upstreamRows(5000, 5001))
  await sqlQuery(url, "UPDATE argo_archived_workflows SET finishedat = timestamp '2027-01-01', namespace = 'moved' WHERE uid = 'u-5000'")
  const copies = await sqlQuery<{ f: Date; ns: string }>(url, "SELECT DISTINCT finishedat AS f, namespace AS ns FROM argo_archived_workflows_labels WHERE uid = 'u-5000'")
  assert.deepEqual(copies.map((r) => [r.f.toISOString(), r.ns]), [['2027-01-01T00:00:00.000Z', 'moved']])
  const top = await s.json<List>('/api/v1/archived-workflows?listOptions.labelSelector=tier%3Deven&listOptions.limit=1')
  assert.deepEqual(top.body.items?.map((w) => w.metadata.name), ['wf-5000'])
  const moved = await s.json<List>('/api/v1/archived-workflows?namespace=moved&listOptions.labelSelector=tier%3Deven')
  assert.deepEqual(moved.body.items?.map((w) => w.metadata.name), ['wf-5000'])

  // Label keys and values within a namespace, from the label copies and from the workflows alike ('rare' is on
  // wf-7, in argo; u-5000 alone is in 'moved'); unscoped, every key of this cluster (not another's 'elsewhere').
  await sqlQuery(url, `INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid)
    VALUES ('u-west', 'wf-west', 'Succeeded', 'argo', '{}', now(), now(), 'west', '')`)
  await sqlQuery(url, "INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value) VALUES ('west', 'u-west', 'elsewhere', 'x')")
  for (const labelIndex of [false, true]) {
    const reader = new ArchiveReader(db, scope, () => labelIndex)
    assert.deepEqual(await reader.labelKeys(''), ['rare', 'team', 'tier'])
    assert.deepEqual(await reader.labelKeys('argo'), ['rare', 'team', 'tier'])
    assert.deepEqual(await reader.labelKeys('other'), ['team', 'tier'])
    assert.deepEqual(await reader.labelKeys('moved'), ['team', 'tier'])
    assert.deepEqual(await reader.labelKeys('nowhere'), [])
    assert.deepEqual(await reader.labelValues('rare', 'other'), [])
    assert.deepEqual(await reader.labelValues('rare', 'argo'), ['yes'])
    assert.deepEqual(await reader.labelValues('team', 'moved'), ['team-0'])
    assert.deepEqual(await reader.labelValues('tier', ''), ['even', 'odd'])
    assert.deepEqual(await reader.labelValues('elsewhere', ''), [])
    // A namespaced server's: its namespace's, with or without naming it; none of another.
    const namespaced = new ArchiveReader(db, { ...scope, managedNamespace: 'other' }, () => labelIndex)
    assert.deepEqual(await namespaced.labelKeys(''), ['team', 'tier'])
    assert.deepEqual(await namespaced.labelKeys('argo'), [])
    assert.deepEqual(await namespaced.labelValues('rare', ''), [])
    assert.deepEqual(await namespaced.labelValues('tier', 'moved'), [])
  }

  // Items are spliced from jsonb text: Go's HTML escaping still applies, a JSON null for labels is an empty map.
  await sqlQuery(url, `INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid)
    VALUES ('u-6000', 'wf-6000', 'Failed', 'argo', $1::jsonb, now(), now(), 'default', '')`,
  [JSON.stringify({ metadata: { name: 'wf-6000', labels: null, annotations: { note: 'x & y' } }, status: { message: 'a<b>\u2028c' } })])
  await sqlQuery(url, "INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value) VALUES ('default', 'u-6000', 'html', 'yes')")
  const raw = await (await s.req('/api/v1/archived-workflows?listOptions.labelSelector=html%3Dyes')).text()
  assert.ok(raw.includes('"message":"a\\u003cb\\u003e\\u2028c"'), raw)
  assert.match(raw, /"note": ?"x \\u0026 y"/)
  const item = (JSON.parse(raw) as { items: { metadata: { labels: unknown } }[] }).items[0]
  assert.deepEqual(item?.metadata.labels, { 'workflows.argoproj.io/workflow-archiving-status': 'Persisted' })
})
