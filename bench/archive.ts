import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RawBuilder } from 'kysely'
import pg from 'pg'
import { startEmulator } from '../emulator/index.js'
import { getByUidSql, listSql } from '../src/archive/archive-read-repository.js'
import { LabelCopiesBackfill } from '../src/archive/label-backfill.js'
import { parseConfig } from '../src/config/parse.js'
import { migrateToLatest, openDatabase, SESSION_OPTIONS } from '../src/db/database.js'
import { parseLabelSelector } from '../src/lib/label-selector.js'
import { startLocalPostgres } from '../src/sandbox/postgres.js'
import { createServer } from '../src/server.js'
import { fmt, getter, timedSideBySide, type Latency } from './lib.js'

const N = Number(process.env.BENCH_REQUESTS ?? 300)
const SIZES = (process.env.BENCH_ARCHIVE_SIZES ?? '10000,1000000').split(',').map(Number)
const THROUGHPUT = Number(process.env.BENCH_ARCHIVE_THROUGHPUT ?? 2000)
const SELECTOR = 'workflows.argoproj.io/workflow-template=tmpl-3'
const scope = { clusterName: 'default', instanceId: '', managedNamespace: '' }

/**
 * Archived workflows generated in SQL, ~18 KB each (aw#13601's average): 1,000 distinct node maps of md5 text
 * (so TOAST compression is realistic, not a repeated string), picked per row; 5 to 6 labels per workflow.
 */
async function seed(c: pg.Client, from: number, to: number): Promise<void> {
  await c.query(`CREATE TEMP TABLE IF NOT EXISTS blobs AS SELECT b, (SELECT jsonb_object_agg('node-' || b || '-' || n, jsonb_build_object(
      'id', 'node-' || b || '-' || n, 'name', 'wf[' || n || '].step-' || md5((b * 100 + n)::text), 'displayName', 'step-' || n, 'type', 'Pod',
      'templateName', 'main', 'phase', 'Succeeded', 'startedAt', '2026-01-01T00:00:00Z', 'finishedAt', '2026-01-01T00:00:10Z',
      'hostNodeName', 'node-' || (n % 7), 'outputs', jsonb_build_object('exitCode', '0', 'result', md5(b::text || n) || md5(n::text || b) || md5((b + n)::text)),
      'resourcesDuration', jsonb_build_object('cpu', n, 'memory', n * 5), 'message', md5(b::text) || md5(n::text)))
      FROM generate_series(1, 32) n) AS nodes FROM generate_series(0, 999) b`)
  await c.query(`INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid, creationtimestamp, resourceversion)
    SELECT md5('uid' || i), 'wf-' || i, CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Succeeded' END, 'argo',
      jsonb_build_object(
        'apiVersion', 'argoproj.io/v1alpha1', 'kind', 'Workflow',
        'metadata', jsonb_build_object('name', 'wf-' || i, 'namespace', 'argo', 'uid', md5('uid' || i), 'resourceVersion', i::text,
          'creationTimestamp', to_char(t - interval '70 seconds', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'labels', jsonb_build_object('workflows.argoproj.io/phase', CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Succeeded' END,
            'workflows.argoproj.io/completed', 'true', 'workflows.argoproj.io/workflow-template', 'tmpl-' || (i % 20), 'team', 'team-' || (i % 7),
            'workflows.argoproj.io/workflow-archiving-status', 'Persisted')),
        'spec', jsonb_build_object('entrypoint', 'main', 'arguments', jsonb_build_object('parameters', jsonb_build_array(jsonb_build_object('name', 'p', 'value', 'v' || i))),
          'workflowTemplateRef', jsonb_build_object('name', 'tmpl-' || (i % 20))),
        'status', jsonb_build_object('phase', CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Succeeded' END,
          'startedAt', to_char(t - interval '60 seconds', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'finishedAt', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'progress', '32/32', 'estimatedDuration', 60, 'resourcesDuration', jsonb_build_object('cpu', 32, 'memory', 160), 'nodes', b.nodes)),
      t - interval '60 seconds', t, 'default', '', t - interval '70 seconds', i
    FROM generate_series(${from}, ${to - 1}) i
    CROSS JOIN LATERAL (SELECT timestamp '2026-01-01' + i * interval '7 seconds' AS t) tt
    JOIN blobs b ON b.b = i % 1000`)
  await c.query(`INSERT INTO argo_archived_workflows_labels (clustername, uid, name, value, finishedat, namespace)
    SELECT 'default', md5('uid' || i), l.name, l.value, timestamp '2026-01-01' + i * interval '7 seconds', 'argo' FROM generate_series(${from}, ${to - 1}) i
    CROSS JOIN LATERAL (VALUES ('workflows.argoproj.io/phase', CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Succeeded' END),
      ('workflows.argoproj.io/completed', 'true'), ('workflows.argoproj.io/workflow-template', 'tmpl-' || (i % 20)),
      ('team', 'team-' || (i % 7)), ('workflows.argoproj.io/workflow-archiving-status', 'Persisted')) AS l(name, value)`)
}

/** The same SQL the API runs (a page, a get), straight through pg (compiled by kysely, executed without it). */
function rawSql(c: pg.Client, query: RawBuilder<unknown>): () => Promise<unknown> {
  const db = openDatabase('postgres://unused/x')
  const q = query.compile(db.kysely)
  void db.close()
  return () => c.query(q.sql, q.parameters as unknown[])
}

/**
 * The floor of any Node server for this call: a bare node:http server that runs the same SQL and answers the API's
 * bytes for it, with no routing, authorization or serialization.
 */
async function floorServer(c: pg.Client, query: RawBuilder<unknown>, body: Buffer): Promise<{ url: string; close: () => void }> {
  const raw = rawSql(c, query)
  const server = http.createServer((_req, res) => void raw().then(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  }))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() }
}

/**
 * A call through the API and its SQL through pg, side by side: the ratio compares calls made under the same load.
 * Then the floor against the same SQL, the same way: how much of the ratio no Node server could avoid.
 */
async function versusRaw(url: string, auth: Record<string, string>, c: pg.Client, query: RawBuilder<unknown>) {
  const api = getter(url, auth)
  const body = Buffer.from(await (await fetch(url, { headers: auth })).arrayBuffer())
  const bare = await floorServer(c, query, body)
  const floor = getter(bare.url, {})
  try {
    const [viaApi, raw] = await timedSideBySide(N, 20, [api.call, rawSql(c, query)])
    const [viaFloor, rawAgain] = await timedSideBySide(N, 20, [floor.call, rawSql(c, query)])
    return { api: viaApi as Latency, raw: raw as Latency, floor: (viaFloor as Latency).p50 / (rawAgain as Latency).p50 }
  } finally {
    api.close()
    floor.close()
    bare.close()
  }
}

async function atSize(base: string, auth: Record<string, string>, c: pg.Client, rows: number, have: number) {
  if (rows > have) {
    const t0 = performance.now()
    for (let from = have; from < rows; from += 100_000) await seed(c, from, Math.min(rows, from + 100_000))
    console.log(`  seeded ${rows - have} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  }
  // As autovacuum leaves a table at rest: statistics current and the visibility map set (index-only scans skip the heap).
  const v0 = performance.now()
  await c.query('VACUUM (ANALYZE) argo_archived_workflows, argo_archived_workflows_labels')
  console.log(`  vacuum analyze: ${((performance.now() - v0) / 1000).toFixed(0)} s`)
  const avg = Number((await c.query<{ b: string }>('SELECT avg(pg_column_size(workflow::text))::int AS b FROM (SELECT workflow FROM argo_archived_workflows LIMIT 200) x')).rows[0]?.b)
  const uid = (await c.query<{ uid: string }>(`SELECT uid FROM argo_archived_workflows OFFSET ${Math.floor(rows / 2)} LIMIT 1`)).rows[0]?.uid as string
  const sel = encodeURIComponent(SELECTOR)
  const page = await versusRaw(`${base}/api/v1/archived-workflows?listOptions.limit=50`, auth, c, listSql(scope, { namespace: '', labels: [], limit: 51 }, true))
  const pageSel = await versusRaw(`${base}/api/v1/archived-workflows?listOptions.limit=50&listOptions.labelSelector=${sel}`, auth, c,
    listSql(scope, { namespace: '', labels: parseLabelSelector(SELECTOR), limit: 51 }, true))
  const get = await versusRaw(`${base}/api/v1/archived-workflows/${uid}`, auth, c, getByUidSql(scope, uid))
  return { rows, avg, page, pageSel, get }
}

/** Workflows per second from "finished in Kubernetes" to "row written and live object labelled Archived". */
async function throughput(databaseUrl: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-archive-'))
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const kubeconfig = await emulator.writeKubeconfig(join(dir, 'kubeconfig'))
  const server = await createServer(parseConfig(['--secure=false', '--kubeconfig', kubeconfig, '--loglevel', 'error', '--database-url', databaseUrl], {}), { kind: 'file', path: kubeconfig })
  const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
  while (!server.archive.elector?.leader) await new Promise((r) => setTimeout(r, 50))
  const t0 = performance.now()
  for (let i = 0; i < THROUGHPUT; i++) {
    emulator.create(WF, {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `tp-${i}`, labels: { 'workflows.argoproj.io/completed': 'true', team: 't' } },
      spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
      status: { phase: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z', nodes: { a: { id: 'a', phase: 'Succeeded', message: 'x'.repeat(8000) } } },
    })
  }
  while (!emulator.list(WF).every((w) => w.metadata.labels?.['workflows.argoproj.io/workflow-archiving-status'] === 'Archived')) await new Promise((r) => setTimeout(r, 50))
  const rate = THROUGHPUT / ((performance.now() - t0) / 1000)
  await server.close()
  await emulator.close()
  await rm(dir, { recursive: true, force: true })
  return rate
}

/** A database of its own for each size, created on first use; a kept BENCH_ARCHIVE_DIR keeps its rows. */
async function database(adminUrl: string, name: string, fresh = false): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0
    if (!exists) await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  return u.toString()
}

/** One size: its database migrated (label times backfilled, as a server would), seeded, vacuumed, then measured. */
async function measureSize(adminUrl: string, rows: number, kubeconfig: string, token: string) {
  const url = await database(adminUrl, `bench_${rows}`)
  await migrateToLatest(url)
  const db = openDatabase(url)
  const backfill = new LabelCopiesBackfill(db, () => openDatabase(url, { max: 1 }), (m) => console.log(`  ${m}`))
  backfill.start()
  await backfill.settled()
  await db.close()
  const c = new pg.Client({ connectionString: url, options: SESSION_OPTIONS }) // the API's session settings
  await c.connect()
  // The API as users run it: client auth mode, SelfSubjectAccessReviews cached, plain HTTP on loopback.
  const server = await createServer(parseConfig(['--secure=false', '--kubeconfig', kubeconfig, '--loglevel', 'error', '--database-url', url, '--skip-migrations'], {}), { kind: 'file', path: kubeconfig })
  try {
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' })
    const have = Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM argo_archived_workflows WHERE name LIKE 'wf-%'")).rows[0]?.n)
    return await atSize(base, { authorization: `Bearer ${token}` }, c, rows, have)
  } finally {
    await server.close()
    await c.end()
  }
}

export async function run(): Promise<void> {
  // BENCH_ARCHIVE_DIR keeps the generated rows for the next run (seeding 1M rows takes minutes).
  const keep = process.env.BENCH_ARCHIVE_DIR
  const dir = keep ?? await mkdtemp(join(tmpdir(), 'bench-archive-pg-'))
  const pgs = await startLocalPostgres(join(dir, 'data'), { persistent: Boolean(keep) })
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const kubeconfig = await emulator.writeKubeconfig(join(dir, 'kubeconfig'))
  console.log(`archive benchmark: ${N} sequential requests per measurement (API and its raw SQL alternated call by call); selector ${SELECTOR} (1 in 20 rows)`)
  console.log('  floor: a bare node:http server running the same SQL and answering the same bytes, alternated with the raw SQL the same way')
  const results = []
  try {
    for (const rows of SIZES) results.push(await measureSize(pgs.url, rows, kubeconfig, emulator.adminToken))
  } finally {
    await emulator.close()
  }
  for (const r of results) {
    console.log(`  ${r.rows.toString().padStart(8)} rows (~${((r.avg ?? 0) / 1024).toFixed(1)} KB each):`)
    for (const [what, m] of [['page of 50          ', r.page], ['page of 50, selector', r.pageSel], ['get by uid          ', r.get]] as const) {
      console.log(`    ${what}   API p50 ${fmt(m.api.p50)} p99 ${fmt(m.api.p99)} ms | raw SQL p50 ${fmt(m.raw.p50)} p99 ${fmt(m.raw.p99)} ms | API/raw p50 ${fmt(m.api.p50 / m.raw.p50)} p99 ${fmt(m.api.p99 / m.raw.p99)} | floor/raw p50 ${fmt(m.floor)}`)
    }
  }
  const [small, large] = [results[0], results[results.length - 1]]
  if (small && large && small !== large) {
    console.log(`  p99(${large.rows})/p99(${small.rows}): page ${fmt(large.page.api.p99 / small.page.api.p99)}, selector ${fmt(large.pageSel.api.p99 / small.pageSel.api.p99)}, get ${fmt(large.get.api.p99 / small.get.api.p99)} (target <= 2)`)
  }
  const tp = await throughput(await database(pgs.url, 'bench_throughput', true))
  console.log(`  archiving throughput: ${tp.toFixed(0)} workflows/s (${THROUGHPUT} workflows, finished in Kubernetes -> row written and labelled Archived)`)
  await pgs.stop()
  if (!keep) await rm(dir, { recursive: true, force: true })
}
