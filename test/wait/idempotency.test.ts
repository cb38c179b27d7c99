import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { ownPostgres } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, liveStatus } from '../archive/helpers.js'
import { create, job, until, WF, type Wf } from './helpers.js'

const ofKey = (s: { emulator: { list(r: typeof WF): { metadata: { annotations?: Record<string, string> } }[] } }, key: string) =>
  s.emulator.list(WF).filter((w) => w.metadata.annotations?.['workflows.argoproj.io/idempotency-key'] === key)

test('concurrent duplicates with one Idempotency-Key, on two replicas, create exactly one workflow', async (t) => {
  const s = await startStack(t)
  const replica = await s.startReplica()
  const other = `http://127.0.0.1:${(replica.app.server.address() as AddressInfo).port}`
  const body = JSON.stringify({ workflow: job({ generateName: 'order-' }) })
  const headers = { authorization: `Bearer ${s.emulator.adminToken}`, 'content-type': 'application/json', 'idempotency-key': 'order-42' }
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    fetch(`${i % 2 ? other : s.url}/api/v1/workflows/argo`, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), body: await r.json() as Wf }))))
  assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200))
  assert.equal(ofKey(s, 'order-42').length, 1)
  assert.equal(new Set(answers.map((a) => a.body.metadata.uid)).size, 1)
  assert.equal(answers.filter((a) => a.replayed === 'true').length, 19)
  assert.match(answers[0]?.body.metadata.name ?? '', /^order-[0-9a-f]{16}$/)
})

test('replay: same key and body answers the original (marked); another body is 422; survives a restart', async (t) => {
  const s = await startStack(t)
  const first = await create(s, job({ param: 'a' }), { 'idempotency-key': 'k1' })
  assert.equal(first.status, 200)
  assert.equal(first.headers.get('idempotent-replayed'), null)
  const again = await create(s, job({ param: 'a' }), { 'idempotency-key': 'k1' })
  assert.equal(again.status, 200)
  assert.equal(again.headers.get('idempotent-replayed'), 'true')
  assert.equal(again.body.metadata.uid, first.body.metadata.uid)

  const different = await create(s, job({ param: 'b' }), { 'idempotency-key': 'k1' })
  assert.equal(different.status, 422)
  assert.equal((different.body as unknown as { code: number }).code, 9)
  assert.match((different.body as unknown as { message: string }).message, /already used with a different request/)
  // Even with another name prefix (another name): the key is found by its label.
  assert.equal((await create(s, job({ generateName: 'other-' }), { 'idempotency-key': 'k1' })).status, 422)
  assert.equal(ofKey(s, 'k1').length, 1)

  await s.restartServer()
  const afterRestart = await create(s, job({ param: 'a' }), { 'idempotency-key': 'k1' })
  assert.equal(afterRestart.status, 200)
  assert.equal(afterRestart.headers.get('idempotent-replayed'), 'true')
  assert.equal(afterRestart.body.metadata.uid, first.body.metadata.uid)

  // Another key is another workflow; a key with a fixed name keeps that name.
  const k2 = await create(s, job({ param: 'a' }), { 'idempotency-key': 'k2' })
  assert.notEqual(k2.body.metadata.uid, first.body.metadata.uid)
  const named = await create(s, job({ name: 'fixed' }), { 'idempotency-key': 'k3' })
  assert.equal(named.body.metadata.name, 'fixed')
  assert.equal((await create(s, job({ name: 'fixed' }), { 'idempotency-key': 'k3' })).headers.get('idempotent-replayed'), 'true')
  // The name taken by a workflow without that key: the usual 409.
  assert.equal((await create(s, job({ name: 'fixed' }), { 'idempotency-key': 'k4' })).status, 409)
  assert.equal((await create(s, job(), { 'idempotency-key': 'x'.repeat(256) })).status, 400)
})

test('replay with Prefer: wait resumes the wait; a replay from the archive after the workflow was deleted', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  const headers = { 'idempotency-key': 'nightly-2026-03-01', prefer: 'wait=30' }
  const first = await create(s, job({ generateName: 'nightly-' }), headers)
  assert.equal(first.body.status?.phase, 'Succeeded')
  const again = await create(s, job({ generateName: 'nightly-' }), headers)
  assert.equal(again.headers.get('idempotent-replayed'), 'true')
  assert.equal(again.headers.get('argo-wait-result'), 'completed')
  assert.equal(again.body.status?.phase, 'Succeeded')

  const name = first.body.metadata.name
  await until('archived', () => liveStatus(s, name) === 'Archived')
  s.emulator.remove(WF, name)
  const fromArchive = await create(s, job({ generateName: 'nightly-' }), headers)
  assert.equal(fromArchive.status, 200)
  assert.equal(fromArchive.headers.get('idempotent-replayed'), 'true')
  assert.equal(fromArchive.body.metadata.uid, first.body.metadata.uid)
  assert.equal(s.emulator.get(WF, name), undefined, 'not created again')
  assert.equal((await create(s, job({ generateName: 'nightly-', param: 'x' }), headers)).status, 422)
})

test('a key whose run is gone from Kubernetes while the archive cannot be read: 503 and nothing created, then the replay', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, { database: pg.url, args: archiveArgs })
  const headers = { 'idempotency-key': 'once' }
  const first = await create(s, job({ generateName: 'once-' }), headers)
  const name = first.body.metadata.name
  s.emulator.patch(WF, name, { status: { phase: 'Succeeded', startedAt: '2026-03-01T00:00:00Z', finishedAt: '2026-03-01T00:01:00Z' } })
  await until('archived', () => liveStatus(s, name) === 'Archived')
  s.emulator.remove(WF, name)
  await pg.stop()
  // Before, the archive's failure read as "no archived run": a second run of the key was created.
  const down = await create(s, job({ generateName: 'once-' }), headers)
  assert.deepEqual([down.status, (down.body as unknown as { code: number }).code], [503, 14])
  assert.equal(s.emulator.get(WF, name), undefined, 'nothing created')
  await pg.start()
  await until('replayed from the archive', async () => (await create(s, job({ generateName: 'once-' }), headers)).headers.get('idempotent-replayed') === 'true', 20_000)
  assert.equal(s.emulator.get(WF, name), undefined, 'still not created again')
})

test('the trigger-service flow: submit a template with parameters and wait; retry with the same key; its run history', async (t) => {
  const s = await startStack(t)
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  s.emulator.create({ group: 'argoproj.io', resource: 'workflowtemplates', namespace: 'argo' }, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'report' },
    spec: {
      entrypoint: 'main', arguments: { parameters: [{ name: 'day', value: 'today' }] },
      templates: [{ name: 'main', container: { image: 'busybox', command: ['echo', '{{workflow.parameters.day}}'] } }],
    },
  })
  const body = { resourceKind: 'WorkflowTemplate', resourceName: 'report', submitOptions: { parameters: ['day=2026-03-01'] } }
  const headers = { 'idempotency-key': 'report-2026-03-01', prefer: 'wait=30' }
  const first = await s.json<Wf>('/api/v1/workflows/argo/submit', { method: 'POST', json: body, headers })
  assert.equal(first.status, 200, JSON.stringify(first.body))
  assert.equal(first.headers.get('argo-wait-result'), 'completed')
  assert.equal(first.body.status?.phase, 'Succeeded')
  assert.match(first.body.metadata.name, /^report-[0-9a-f]{16}$/)
  const retry = await s.json<Wf>('/api/v1/workflows/argo/submit', { method: 'POST', json: body, headers })
  assert.equal(retry.headers.get('idempotent-replayed'), 'true')
  assert.equal(retry.body.metadata.uid, first.body.metadata.uid)
  const changed = await s.json('/api/v1/workflows/argo/submit', { method: 'POST', json: { ...body, submitOptions: { parameters: ['day=2026-03-02'] } }, headers })
  assert.equal(changed.status, 422)
  // The same key in create is another request (another kind of call): 422, never a second workflow.
  assert.equal((await create(s, job(), { 'idempotency-key': 'report-2026-03-01' })).status, 422)

  const history = await until('in the history', async () => {
    const h = await s.json<{ items: { name: string; phase: string; parameters: { name: string; value: string }[] }[] }>('/api/v1/workflow-templates/argo/report/runs')
    return h.body.items.length === 1 && h.body
  })
  assert.equal(history.items[0]?.name, first.body.metadata.name)
  assert.deepEqual(history.items[0]?.parameters, [{ name: 'day', value: '2026-03-01' }])
})

test('a resubmitted run does not carry the Idempotency-Key: a replay still answers the original run', async (t) => {
  const s = await startStack(t)
  const runner = startRunner(s.emulator, { stepMs: 10 })
  t.after(() => runner.stop())
  const first = await create(s, job({ param: 'a' }), { 'idempotency-key': 'k-resub' })
  assert.equal(first.status, 200)
  await until('finished', () => ['Succeeded', 'Failed'].includes(String((s.emulator.get(WF, first.body.metadata.name)?.status as { phase?: string } | undefined)?.phase)))
  const resub = await s.json<Wf>(`/api/v1/workflows/argo/${first.body.metadata.name}/resubmit`, { method: 'PUT', json: {} })
  assert.equal(resub.status, 200)
  await until('resubmitted run cached', async () => (await s.json(`/api/v1/workflows/argo/${resub.body.metadata.name}`)).status === 200)
  assert.deepEqual(ofKey(s, 'k-resub').map((w) => (w.metadata as { name?: string }).name), [first.body.metadata.name])
  const replay = await create(s, job({ param: 'a' }), { 'idempotency-key': 'k-resub' })
  assert.equal(replay.headers.get('idempotent-replayed'), 'true')
  assert.equal(replay.body.metadata.uid, first.body.metadata.uid)
})
