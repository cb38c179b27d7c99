import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack, type Stack } from '../harness/stack.js'
import { archiveArgs, STATUS } from '../archive/helpers.js'
import { until, WF } from './helpers.js'

const T = 'workflows.argoproj.io/workflow-template'
const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '')
const base = Date.parse('2026-03-01T00:00:00Z')

type Run = { name: string; phase: string; startedAt?: string; finishedAt?: string; durationSeconds?: number; parameters: { name: string; value?: string }[]; archived: boolean }
type History = { metadata: { continue?: string }; owner: Record<string, string>; items: Run[]; summary?: { runs: number; running: number; finished: number; succeeded: number; failed: number; successRate?: number; durationSeconds?: { p50: number; p95: number } } }

/** Run i of a template: finished i minutes after base, lasting i seconds; every 4th one failed. */
function run(s: Stack, i: number, labels: Record<string, string>, namespace = 'argo') {
  const finishedAt = base + i * 60_000
  return s.emulator.create({ ...WF, namespace }, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name: `run-${String(i).padStart(3, '0')}`, labels },
    spec: { arguments: { parameters: [{ name: 'n', value: String(i) }] } },
    status: { phase: i % 4 === 0 ? 'Failed' : 'Succeeded', startedAt: iso(finishedAt - i * 1000), finishedAt: iso(finishedAt) },
  })
}

async function allPages(s: Stack, path: string, limit: number): Promise<{ pages: History[]; runs: Run[] }> {
  const pages: History[] = []
  let next: string | undefined
  do {
    const sep = path.includes('?') ? '&' : '?'
    const res = await s.json<History>(`${path}${sep}listOptions.limit=${limit}${next ? `&listOptions.continue=${encodeURIComponent(next)}` : ''}`)
    assert.equal(res.status, 200, JSON.stringify(res.body))
    pages.push(res.body)
    next = res.body.metadata.continue
  } while (next)
  return { pages, runs: pages.flatMap((p) => p.items) }
}

test('run history of a WorkflowTemplate: live and archived together, newest first, keyset pages, summary', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  for (let i = 1; i <= 20; i++) run(s, i, { [T]: 'etl' })
  run(s, 99, { [T]: 'other' })
  await until('archived', () => s.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'))
  // Half are gone from Kubernetes (only archived now); one run is still going.
  for (let i = 1; i <= 20; i += 2) s.emulator.remove(WF, `run-${String(i).padStart(3, '0')}`)
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'run-live', labels: { [T]: 'etl' } }, spec: {}, status: { phase: 'Running', startedAt: iso(Date.now()) } })
  await until('cached', async () => (await s.json<History>('/api/v1/workflow-templates/argo/etl/runs')).body.items.length === 21)

  const { pages, runs } = await allPages(s, '/api/v1/workflow-templates/argo/etl/runs', 6)
  assert.equal(pages.length, 4)
  assert.deepEqual(runs.map((r) => r.name), ['run-live', ...Array.from({ length: 20 }, (_, i) => `run-${String(20 - i).padStart(3, '0')}`)])
  const r7 = runs.find((r) => r.name === 'run-007') as Run
  assert.deepEqual({ ...r7 }, {
    ...r7, phase: 'Succeeded', startedAt: iso(base + 7 * 60_000 - 7000), finishedAt: iso(base + 7 * 60_000), durationSeconds: 7,
    parameters: [{ name: 'n', value: '7' }], archived: true,
  })
  assert.equal(runs[0]?.durationSeconds, undefined)
  assert.equal(runs[0]?.phase, 'Running')
  // Summary on the first page only, over the newest N runs.
  assert.equal(pages[1]?.summary, undefined)
  const sum = pages[0]?.summary
  assert.deepEqual({ runs: sum?.runs, running: sum?.running, finished: sum?.finished, succeeded: sum?.succeeded, failed: sum?.failed }, { runs: 21, running: 1, finished: 20, succeeded: 15, failed: 5 })
  assert.equal(sum?.successRate, 0.75)
  assert.deepEqual(sum?.durationSeconds, { p50: 10, p95: 19, max: 20 })
  const last5 = (await s.json<History>('/api/v1/workflow-templates/argo/etl/runs?summaryRuns=5&listOptions.limit=2')).body.summary
  assert.deepEqual({ runs: last5?.runs, finished: last5?.finished, failed: last5?.failed }, { runs: 5, finished: 4, failed: 1 }) // live, 20(F), 19, 18, 17
  assert.equal((await s.json<History>('/api/v1/workflow-templates/argo/nothing/runs')).body.items.length, 0)
  assert.equal((await s.json('/api/v1/workflow-templates/argo/etl/runs', { token: 'bad' })).status, 401)
})

test('run history of a CronWorkflow and of a ClusterWorkflowTemplate across namespaces, without an archive', async (t) => {
  const s = await startStack(t)
  for (let i = 1; i <= 5; i++) run(s, i, { 'workflows.argoproj.io/cron-workflow': 'hourly' })
  for (let i = 6; i <= 9; i++) run(s, i, { 'workflows.argoproj.io/cluster-workflow-template': 'shared' }, i % 2 ? 'argo' : 'default')
  await until('cached', async () => (await s.json<History>('/api/v1/cron-workflows/argo/hourly/runs')).body.items.length === 5)
  const cron = await allPages(s, '/api/v1/cron-workflows/argo/hourly/runs', 2)
  assert.deepEqual(cron.runs.map((r) => r.name), ['run-005', 'run-004', 'run-003', 'run-002', 'run-001'])
  assert.equal(cron.pages[0]?.owner.kind, 'CronWorkflow')
  assert.ok(cron.runs.every((r) => !r.archived))
  const cluster = await allPages(s, '/api/v1/cluster-workflow-templates/shared/runs', 3)
  assert.deepEqual(cluster.runs.map((r) => r.name), ['run-009', 'run-008', 'run-007', 'run-006'])
  const oneNs = await allPages(s, '/api/v1/cluster-workflow-templates/shared/runs?namespace=default', 10)
  assert.deepEqual(oneNs.runs.map((r) => r.name), ['run-008', 'run-006'])
  // A name is matched as a label value, never parsed as selector syntax; one that cannot be a label value has no runs.
  for (const name of ['hourly,!nope', 'hourly%2C!nope', 'x'.repeat(70)]) {
    const none = await s.json<History>(`/api/v1/cron-workflows/argo/${name}/runs`)
    assert.equal(none.status, 200, name)
    assert.deepEqual(none.body.items, [], name)
  }
})
