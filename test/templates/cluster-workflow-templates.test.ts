import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { EDITOR, aTemplate, editor, names, post, put, twoProblems, type ErrorBody, type ListBody, type Obj } from './helpers.js'

const base = '/api/v1/cluster-workflow-templates'

test('ClusterWorkflowTemplate create, get, list, update and delete over HTTP', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  assert.equal((await s.json<ListBody>(base)).body.items, null)
  const created = await post(s, base, { template: aTemplate('shared') })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  assert.equal(created.body.metadata.namespace, undefined, 'cluster-scoped')
  assert.equal(created.body.kind, undefined)
  assert.equal(created.body.metadata.labels?.['workflows.argoproj.io/creator'], EDITOR)
  assert.deepEqual((await s.json<Obj>(`${base}/shared`)).body, created.body)

  await post(s, base, { template: aTemplate('another', { tier: 'gold' }) })
  assert.deepEqual(names((await s.json<ListBody>(base)).body), ['another', 'shared'])
  assert.deepEqual(names((await s.json<ListBody>(`${base}?listOptions.labelSelector=tier%3Dgold`)).body), ['another'])
  const page = await s.json<ListBody>(`${base}?listOptions.limit=1`)
  assert.deepEqual(names(page.body), ['another'])
  const next = await s.json<ListBody>(`${base}?listOptions.limit=1&listOptions.continue=${encodeURIComponent(page.body.metadata.continue ?? '')}`)
  assert.deepEqual(names(next.body), ['shared'])

  const updated = await put(s, `${base}/shared`, { template: { ...created.body, spec: { ...created.body.spec, entrypoint: 'main', parallelism: 2 } } })
  assert.equal(updated.status, 200, JSON.stringify(updated.body))
  assert.equal(updated.body.spec.parallelism, 2)
  const stale = await put<ErrorBody>(s, `${base}/shared`, { template: created.body })
  assert.equal(stale.status, 409)
  assert.equal(stale.body.code, 6)

  assert.deepEqual((await s.json(`${base}/shared`, { method: 'DELETE' })).body, {})
  assert.deepEqual((await s.json(`${base}/shared`)).body, { code: 5, message: 'clusterworkflowtemplates.argoproj.io "shared" not found' })
})

test('ClusterWorkflowTemplate errors: 400 naming every field, lint, 409 AlreadyExists, missing body', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  const bad = await post<ErrorBody>(s, base, { template: twoProblems('bad') })
  assert.equal(bad.status, 400)
  assert.match(bad.body.message, /spec\.templates\[0\]: .*template type unspecified.*; spec\.entrypoint: template 'nope' undefined|spec\.entrypoint: template 'nope' undefined.*; spec\.templates\[0\]/)
  const lint = await post<ErrorBody>(s, `${base}/lint`, { template: twoProblems('bad') })
  assert.deepEqual(lint.body, bad.body)
  assert.equal((await post(s, `${base}/lint`, { template: aTemplate('ok') })).status, 200)
  assert.equal((await s.json(`${base}/ok`)).status, 404)
  assert.deepEqual((await post(s, base, {})).body, { code: 3, message: 'cluster workflow template was not found in the request body' })
  assert.deepEqual((await put(s, `${base}/x`, {})).body, { code: 3, message: 'ClusterWorkflowTemplate is not found in Request body' })
  assert.equal((await post(s, base, { template: aTemplate('one') })).status, 200)
  assert.deepEqual((await post(s, base, { template: aTemplate('one') })).body, { code: 6, message: 'clusterworkflowtemplates.argoproj.io "one" already exists' })
  assert.equal((await s.json(`${base}/none`, { method: 'DELETE' })).status, 404)
})
