import assert from 'node:assert/strict'
import { test } from 'node:test'
import { aWorkflow, startStack } from '../harness/stack.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }

test('POST /api/v1/workflows/{ns} creates with generateName and answers 200 with the Workflow, no kind/apiVersion', async (t) => {
  const s = await startStack(t)
  const res = await s.json<{ metadata: Record<string, unknown>; spec: unknown; status: unknown; kind?: string }>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow() } })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.ok(res.headers.get('grpc-metadata-argo-version'))
  assert.match(String(res.body.metadata.name), /^hello-[a-z0-9]{5}$/)
  assert.equal(res.body.metadata.namespace, 'argo')
  assert.ok(res.body.metadata.uid)
  assert.equal(res.body.kind, undefined)
  assert.deepEqual(res.body.status, {})
  const stored = s.emulator.get(WF, String(res.body.metadata.name))
  assert.ok(stored, 'the workflow exists in Kubernetes')
  assert.equal(stored.metadata.labels?.['workflows.argoproj.io/creator'], undefined, 'the admin token is not a JWT: no creator labels')
})

test('createOptions.dryRun returns the validated workflow uncreated; serverDryRun asks Kubernetes to dry-run', async (t) => {
  const s = await startStack(t)
  const dry = await s.json<{ metadata: Record<string, unknown> }>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'dry' }), createOptions: { dryRun: ['All'] } } })
  assert.equal(dry.status, 200)
  assert.equal(dry.body.metadata.name, 'dry')
  assert.equal(dry.body.metadata.uid, undefined)
  const server = await s.json('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'sdry' }), serverDryRun: true } })
  assert.equal(server.status, 200)
  assert.equal(s.emulator.list(WF).length, 0, 'nothing was stored')
})

test('a name conflict is 409 code 6 with the apiserver message', async (t) => {
  const s = await startStack(t)
  assert.equal((await s.req('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'x' }) } })).status, 200)
  const again = await s.json('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'x' }) } })
  assert.equal(again.status, 409)
  assert.deepEqual(again.body, { code: 6, message: 'workflows.argoproj.io "x" already exists' })
  assert.equal(again.headers.get('grpc-metadata-argo-version'), null, 'errors carry no version header')
})

test('bad input is a 400 code 3 naming the problem, and changes nothing', async (t) => {
  const s = await startStack(t)
  const cases: [string, RequestInit & { json?: unknown }, RegExp][] = [
    ['invalid JSON', { body: '{"workflow": x', headers: { 'content-type': 'application/json' } }, /JSON|token|position/i],
    ['a value that never closes', { body: '{"workflow": {"metadata": {"name": "x"}} ', headers: { 'content-type': 'application/json' } }, /JSON|position/i],
    ['invalid JSON before a closing brace', { body: '{"workflow": {x}} trailing', headers: { 'content-type': 'application/json' } }, /JSON|position/i],
    ['no workflow', { json: { namespace: 'argo' } }, /^workflow body not specified$/],
    ['workflow not an object', { json: { workflow: 'x' } }, /workflow/],
    ['wrong field type', { json: { workflow: { metadata: { generateName: 'a-' }, spec: { entrypoint: 'main', templates: 'x' } } } }, /spec\.templates/],
    ['unknown entrypoint', { json: { workflow: { ...aWorkflow(), spec: { ...aWorkflow().spec, entrypoint: 'nope' } } } }, /nope/],
    ['bad boolean', { json: { workflow: aWorkflow(), serverDryRun: 'yes' } }, /serverDryRun/],
    ['a JSON array', { body: '[1]', headers: { 'content-type': 'application/json' } }, /array/],
    // a workflow posted back as GET returned it: the apiserver's 500 (upstream passes it on) is the client's fault
    ['a resourceVersion', { json: { workflow: { ...aWorkflow(), metadata: { name: 'copied', resourceVersion: '12' } } } }, /^resourceVersion should not be set on objects to be created$/],
  ]
  for (const [name, init, message] of cases) {
    const res = await s.json<{ code: number; message: string }>('/api/v1/workflows/argo', { method: 'POST', ...init })
    assert.equal(res.status, 400, name)
    assert.equal(res.body.code, 3, name)
    assert.match(res.body.message, message, name)
    assert.deepEqual(Object.keys(res.body).sort(), ['code', 'message'], name)
  }
  assert.equal(s.emulator.list(WF).length, 0)
})

test('the body is JSON whatever its Content-Type, and an empty body is an empty message', async (t) => {
  const s = await startStack(t)
  const plain = await s.json('/api/v1/workflows/argo', { method: 'POST', body: JSON.stringify({ workflow: aWorkflow({ name: 'plain' }) }), headers: { 'content-type': 'text/plain' } })
  assert.equal(plain.status, 200)
  // Bytes after the first JSON value are ignored, as Go's json.Decoder ignores them (spec §2.1); quotes and
  // brackets inside strings do not end the value.
  const body = JSON.stringify({ note: 'a}b]"c\\', workflow: aWorkflow({ name: 'trailing' }) })
  for (const [i, rest] of ['} trailing', '\n{"workflow":{}}', ' [', 'garbage'].entries()) {
    const trailing = await s.json<{ metadata: { name: string } }>('/api/v1/workflows/argo', { method: 'POST', body: body.replace('"trailing"', `"trailing-${i}"`) + rest })
    assert.equal(trailing.status, 200, rest)
    assert.equal(trailing.body.metadata.name, `trailing-${i}`)
  }
  const empty = await s.json('/api/v1/workflows/argo', { method: 'POST' })
  assert.deepEqual(empty.body, { code: 3, message: 'workflow body not specified' })
  // JSON null decodes into a Go struct as nothing: an empty message too.
  const nullBody = await s.json('/api/v1/workflows/argo', { method: 'POST', body: ' null ' })
  assert.deepEqual(nullBody.body, { code: 3, message: 'workflow body not specified' })
})

test('lint returns the labelled workflow, or 400 listing every problem', async (t) => {
  const s = await startStack(t)
  const ok = await s.json<{ metadata: { namespace: string } }>('/api/v1/workflows/argo/lint', { method: 'POST', json: { workflow: aWorkflow() } })
  assert.equal(ok.status, 200)
  assert.equal(ok.body.metadata.namespace, 'argo')
  const bad = await s.json<{ code: number; message: string }>('/api/v1/workflows/argo/lint', {
    method: 'POST',
    json: { workflow: { metadata: { name: 'x' }, spec: { entrypoint: 'nope', templates: [{ name: 'a', container: { image: 1 } }] } } },
  })
  assert.equal(bad.status, 400)
  assert.match(bad.body.message, /nope/)
  assert.match(bad.body.message, /image/)
  assert.equal(s.emulator.list(WF).length, 0)
})
