import assert from 'node:assert/strict'
import { test } from 'node:test'
import { aWorkflow, startStack, type Stack } from '../harness/stack.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }

async function create(s: Stack, name: string, ns = 'argo') {
  const res = await s.json<{ metadata: { name: string; uid: string } }>(`/api/v1/workflows/${ns}`, { method: 'POST', json: { workflow: aWorkflow({ name }) } })
  assert.equal(res.status, 200)
  return res.body.metadata
}

test('GET by name, by @latest, with uid and with fields masks', async (t) => {
  const s = await startStack(t)
  const a = await create(s, 'a')
  const got = await s.json<{ metadata: { name: string; managedFields?: unknown }; spec: unknown }>('/api/v1/workflows/argo/a')
  assert.equal(got.status, 200)
  assert.equal(got.body.metadata.name, 'a')
  assert.equal(got.body.metadata.managedFields, undefined)
  await new Promise((r) => setTimeout(r, 1100)) // creationTimestamps have one-second resolution
  await create(s, 'b')
  const latest = await s.json<{ metadata: { name: string } }>('/api/v1/workflows/argo/@latest')
  assert.equal(latest.body.metadata.name, 'b')
  assert.equal((await s.req(`/api/v1/workflows/argo/a?uid=${a.uid}`)).status, 200)
  const wrongUid = await s.json(`/api/v1/workflows/argo/a?uid=other`)
  assert.equal(wrongUid.status, 404)
  const masked = await s.json('/api/v1/workflows/argo/a?fields=metadata.name,spec.entrypoint')
  assert.deepEqual(masked.body, { metadata: { name: 'a' }, spec: { entrypoint: 'main' }, status: {} })
  const excluded = await s.json<Record<string, Record<string, unknown>>>('/api/v1/workflows/argo/a?fields=-spec.templates,metadata')
  assert.deepEqual(excluded.body.spec, { entrypoint: 'main' })
  assert.deepEqual(excluded.body.metadata, {})
})

test('GET of a missing workflow is 404 code 5 with the apiserver message', async (t) => {
  const s = await startStack(t)
  const res = await s.json('/api/v1/workflows/argo/missing')
  assert.equal(res.status, 404)
  assert.deepEqual(res.body, { code: 5, message: 'workflows.argoproj.io "missing" not found' })
  const latest = await s.json('/api/v1/workflows/argo/@latest')
  assert.equal(latest.status, 404)
})

test('a workflow of another instance ID is 400 "not managed by the current Argo Server"', async (t) => {
  const s = await startStack(t)
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'other', labels: { 'workflows.argoproj.io/controller-instanceid': 'x' } }, spec: {} })
  const res = await s.json('/api/v1/workflows/argo/other')
  assert.deepEqual(res.body, { code: 3, message: "'other' is not managed by the current Argo Server" })
})

test('DELETE answers {} and the workflow is gone; force removes finalizers first', async (t) => {
  const s = await startStack(t)
  await create(s, 'a')
  const del = await s.json('/api/v1/workflows/argo/a', { method: 'DELETE' })
  assert.equal(del.status, 200)
  assert.deepEqual(del.body, {})
  assert.equal((await s.req('/api/v1/workflows/argo/a')).status, 404)
  assert.equal((await s.req('/api/v1/workflows/argo/a', { method: 'DELETE' })).status, 404)

  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'held', finalizers: ['example.com/hold'] }, spec: {} })
  await s.req('/api/v1/workflows/argo/held', { method: 'DELETE' })
  assert.ok(s.emulator.get(WF, 'held'), 'a finalizer keeps it')
  const forced = await s.req('/api/v1/workflows/argo/held?force=true', { method: 'DELETE' })
  assert.equal(forced.status, 200)
  assert.equal(s.emulator.get(WF, 'held'), undefined)
})

test('DELETE @latest deletes the newest workflow', async (t) => {
  const s = await startStack(t)
  await create(s, 'old')
  await new Promise((r) => setTimeout(r, 1100))
  await create(s, 'new')
  assert.equal((await s.req('/api/v1/workflows/argo/@latest', { method: 'DELETE' })).status, 200)
  assert.equal(s.emulator.get(WF, 'new'), undefined)
  assert.ok(s.emulator.get(WF, 'old'))
})

test('@latest on a creationTimestamp tie is the first in list order (name), not an arbitrary one', async (t) => {
  const s = await startStack(t)
  // Created in one second (Kubernetes times are whole seconds), the later-named one first.
  for (;;) {
    s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'zz' }, spec: { entrypoint: 'm' } })
    s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'aa' }, spec: { entrypoint: 'm' } })
    if (s.emulator.get(WF, 'zz')?.metadata.creationTimestamp === s.emulator.get(WF, 'aa')?.metadata.creationTimestamp) break
    s.emulator.remove(WF, 'zz')
    s.emulator.remove(WF, 'aa')
  }
  // the server's cache has both
  while (((await s.json<{ items: unknown[] | null }>('/api/v1/workflows/argo')).body.items ?? []).length < 2) await new Promise((r) => setTimeout(r, 50))
  const latest = await s.json<{ metadata: { name: string } }>('/api/v1/workflows/argo/@latest')
  assert.equal(latest.body.metadata.name, 'aa')
})
