import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { ownPostgres } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, liveStatus } from '../archive/helpers.js'
import { create, finish, job, until, WF, type Wf } from './helpers.js'

test('submit-and-wait: 200 with the final state of a workflow that succeeds, and of one that fails', async (t) => {
  const s = await startStack(t)
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  const ok = await create(s, job(), { prefer: 'wait=30' })
  assert.equal(ok.status, 200)
  assert.equal(ok.headers.get('argo-wait-result'), 'completed')
  assert.equal(ok.headers.get('preference-applied'), 'wait=30')
  assert.equal(ok.body.status?.phase, 'Succeeded')
  assert.equal(s.emulator.get(WF, ok.body.metadata.name)?.metadata.uid, ok.body.metadata.uid)

  const bad = await create(s, job({ fail: true }), { prefer: 'respond-async, wait=30' })
  assert.equal(bad.status, 200)
  assert.equal(bad.headers.get('argo-wait-result'), 'completed')
  assert.equal(bad.body.status?.phase, 'Failed')

  // Without Prefer the answer is upstream's: at once, as created.
  const plain = await create(s, job())
  assert.equal(plain.status, 200)
  assert.equal(plain.headers.get('argo-wait-result'), null)
  // A reconnecting client waits on the existing workflow by name.
  const again = await s.json<Wf>(`/api/v1/workflows/argo/${plain.body.metadata.name}/wait?timeoutSeconds=30`)
  assert.equal(again.status, 200)
  assert.equal(again.headers.get('argo-wait-result'), 'completed')
  assert.equal(again.body.status?.phase, 'Succeeded')
  assert.equal((await s.json('/api/v1/workflows/argo/nope/wait')).status, 404)
})

test('timeout: 202 with the current state at the server maximum; the workflow keeps running and can be waited on again', async (t) => {
  const s = await startStack(t, { args: ['--max-wait-seconds', '1'] })
  const res = await create(s, job(), { prefer: 'wait=600' })
  assert.equal(res.status, 202)
  assert.equal(res.headers.get('argo-wait-result'), 'timeout')
  assert.equal(res.headers.get('preference-applied'), 'wait=1')
  assert.equal(res.body.metadata.name.startsWith('job-'), true)
  assert.equal(res.body.status?.phase, undefined)
  const name = res.body.metadata.name
  assert.ok(s.emulator.get(WF, name), 'still there')
  const timedOut = await s.json<Wf>(`/api/v1/workflows/argo/${name}/wait`)
  assert.equal(timedOut.status, 202)
  assert.equal(timedOut.headers.get('argo-wait-result'), 'timeout')
  finish(s, name)
  const done = await s.json<Wf>(`/api/v1/workflows/argo/${name}/wait`)
  assert.equal(done.status, 200)
  assert.equal(done.body.status?.phase, 'Succeeded')
})

test('a client that disconnects while waiting cancels nothing: the workflow runs to completion', async (t) => {
  const s = await startStack(t)
  const ac = new AbortController()
  const pending = s.req('/api/v1/workflows/argo', { method: 'POST', json: { workflow: job({ name: 'left-behind' }) }, headers: { prefer: 'wait=50' }, signal: ac.signal })
  await until('created', () => s.emulator.get(WF, 'left-behind'))
  ac.abort()
  await assert.rejects(pending)
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  const done = await s.json<Wf>('/api/v1/workflows/argo/left-behind/wait?timeoutSeconds=30')
  assert.equal(done.status, 200)
  assert.equal(done.body.status?.phase, 'Succeeded')
  assert.equal(s.emulator.get(WF, 'left-behind')?.metadata.deletionTimestamp, undefined)
})

test('wait across a server restart: the waiter reconnects to the new server and gets the outcome', async (t) => {
  const s = await startStack(t)
  const created = await create(s, job({ name: 'survivor' }))
  const uid = created.body.metadata.uid
  const first = s.req(`/api/v1/workflows/argo/survivor/wait?uid=${uid}&timeoutSeconds=50`)
    .then(async (r) => `${r.status} ${r.headers.get('argo-wait-result')} ${JSON.stringify((await r.json() as Wf).status)}`).catch(() => 'cut off')
  await until('the first waiter is registered', () => s.emulator.requestCount({ method: 'GET', path: /workflows\/survivor$/ }) > 0)
  await s.restartServer()
  // The old server answers its waiters as timed out with the current state (or the connection is cut);
  // the workflow lives on in Kubernetes.
  assert.ok(['202 timeout {}', 'cut off'].includes(await first), await first)
  const second = s.json<Wf>(`/api/v1/workflows/argo/survivor/wait?uid=${uid}&timeoutSeconds=50`)
  finish(s, 'survivor', 'Failed')
  const done = await second
  assert.equal(done.status, 200)
  assert.equal(done.body.status?.phase, 'Failed')
  // Finished while no server ran: answered at once after the restart.
  const other = await create(s, job({ name: 'while-down' }))
  await s.stopServer()
  finish(s, 'while-down')
  await s.restartServer()
  const late = await s.json<Wf>(`/api/v1/workflows/argo/while-down/wait?uid=${other.body.metadata.uid}`)
  assert.equal(late.status, 200)
  assert.equal(late.body.status?.phase, 'Succeeded')
  // Another run of that name now: the uid names the one waited on.
  assert.equal((await s.json('/api/v1/workflows/argo/while-down/wait?uid=not-this-one')).status, 404)
})

test('a workflow deleted while waited on: its last state, marked deleted; finished in the DELETED event: completed', async (t) => {
  const s = await startStack(t)
  await create(s, job({ name: 'doomed' }))
  const waiting = s.json<Wf>('/api/v1/workflows/argo/doomed/wait?timeoutSeconds=50')
  await until('the waiter is registered', () => s.emulator.requestCount({ method: 'GET', path: /workflows\/doomed$/ }) > 0)
  s.emulator.remove(WF, 'doomed')
  const gone = await waiting
  assert.equal(gone.status, 200)
  assert.equal(gone.headers.get('argo-wait-result'), 'deleted')
  assert.equal(gone.body.metadata.name, 'doomed')

  // Finished and deleted at once (a TTL controller): the DELETED event's last state is the outcome.
  const res = s.json<Wf>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: job({ name: 'short-lived' }) }, headers: { prefer: 'wait=50' } })
  await until('created', () => s.emulator.get(WF, 'short-lived'))
  s.emulator.patch(WF, 'short-lived', { status: { phase: 'Succeeded', finishedAt: new Date().toISOString() } })
  s.emulator.remove(WF, 'short-lived')
  const done = await res
  assert.equal(done.status, 200)
  assert.equal(done.headers.get('argo-wait-result'), 'completed')
  assert.equal(done.body.status?.phase, 'Succeeded')
})

test('a workflow deleted while waited on, with the archive unreadable: 503, not "deleted" (it may have been archived)', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, { database: pg.url })
  await create(s, job({ name: 'doomed' }))
  const waiting = s.json<{ code: number }>('/api/v1/workflows/argo/doomed/wait?timeoutSeconds=50')
  await until('the waiter is registered', () => s.emulator.requestCount({ method: 'GET', path: /workflows\/doomed$/ }) > 0)
  await pg.stop()
  s.emulator.remove(WF, 'doomed')
  const gone = await waiting
  assert.deepEqual([gone.status, gone.body.code], [503, 14])
})

test('a workflow archived and deleted: the wait answers its final state from the archive', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  const created = await create(s, job({ name: 'kept', fail: true }))
  await until('archived', () => liveStatus(s, 'kept') === 'Archived')
  s.emulator.remove(WF, 'kept')
  const done = await s.json<Wf>(`/api/v1/workflows/argo/kept/wait?uid=${created.body.metadata.uid}`)
  assert.equal(done.status, 200)
  assert.equal(done.headers.get('argo-wait-result'), 'completed')
  assert.equal(done.body.status?.phase, 'Failed')
  assert.equal(done.body.metadata.labels?.['workflows.argoproj.io/workflow-archiving-status'], 'Persisted')
})

test('waiting needs get rights: a caller who may only create gets 403 and nothing is created', async (t) => {
  const s = await startStack(t, {
    users: [{ token: 'creator', username: 'creator', rules: [
      { verbs: ['create'], apiGroups: ['argoproj.io'], resources: ['workflows'] },
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] },
    ] }],
  })
  const res = await s.json('/api/v1/workflows/argo', { method: 'POST', token: 'creator', json: { workflow: job({ name: 'secret' }) }, headers: { prefer: 'wait=5' } })
  assert.equal(res.status, 403)
  assert.equal(s.emulator.get(WF, 'secret'), undefined)
  assert.equal((await s.json('/api/v1/workflows/argo/x/wait', { token: 'creator' })).status, 403)
  assert.equal((await s.json('/api/v1/workflows/argo/x/wait', { token: 'bad' })).status, 401)
})
