import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { EDITOR, aTemplate, editor, names, post, put, twoProblems, type ErrorBody, type ListBody, type Obj } from './helpers.js'

const base = '/api/v1/workflow-templates'

test('WorkflowTemplate create, get, list, update and delete over HTTP in the proto shape', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  const empty = await s.json<ListBody>(`${base}/argo`)
  assert.equal(empty.status, 200)
  assert.equal(empty.body.items, null, 'an empty list is items:null, as Go marshals it')

  const created = await post(s, `${base}/argo`, { template: aTemplate('hello') })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  assert.ok(created.body.metadata.uid)
  assert.equal(created.body.metadata.namespace, 'argo')
  assert.equal(created.body.kind, undefined, 'no kind/apiVersion on the wire (spec §0)')
  assert.equal(created.body.apiVersion, undefined)
  assert.equal(created.body.metadata.labels?.['workflows.argoproj.io/creator'], EDITOR)
  assert.equal(created.headers.get('grpc-metadata-argo-version') !== null, true)

  const got = await s.json<Obj>(`${base}/argo/hello`)
  assert.equal(got.status, 200)
  assert.deepEqual(got.body, created.body)

  await post(s, `${base}/argo`, { template: aTemplate('abc') })
  const list = await s.json<ListBody>(`${base}/argo`)
  assert.deepEqual(names(list.body), ['abc', 'hello'], 'sorted by name')
  assert.equal(list.body.items?.[0]?.kind, undefined)

  const update = { ...got.body, spec: { ...got.body.spec, entrypoint: 'main', arguments: { parameters: [{ name: 'p', value: '1' }] } } }
  const updated = await put(s, `${base}/argo/hello`, { template: update })
  assert.equal(updated.status, 200, JSON.stringify(updated.body))
  assert.notEqual(updated.body.metadata.resourceVersion, got.body.metadata.resourceVersion)
  assert.deepEqual(updated.body.spec.arguments, { parameters: [{ name: 'p', value: '1' }] })
  assert.equal(updated.body.metadata.labels?.['workflows.argoproj.io/actor'], EDITOR)
  assert.equal(updated.body.metadata.labels?.['workflows.argoproj.io/action'], 'Update')

  const deleted = await s.json(`${base}/argo/hello`, { method: 'DELETE' })
  assert.equal(deleted.status, 200)
  assert.deepEqual(deleted.body, {})
  const gone = await s.json<ErrorBody>(`${base}/argo/hello`)
  assert.equal(gone.status, 404)
  assert.deepEqual(gone.body, { code: 5, message: 'workflowtemplates.argoproj.io "hello" not found' })
  assert.equal((await s.json<ErrorBody>(`${base}/argo/hello`, { method: 'DELETE' })).status, 404)
})

test('WorkflowTemplate update: resourceVersion required, stale is 409, the path name is ignored', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  const v1 = (await post(s, `${base}/argo`, { template: aTemplate('t') })).body
  const { resourceVersion: _rv, ...noRv } = v1.metadata
  const missing = await put<ErrorBody>(s, `${base}/argo/t`, { template: { ...v1, metadata: noRv } })
  assert.equal(missing.status, 400)
  assert.equal(missing.body.code, 3)
  assert.match(missing.body.message, /metadata\.resourceVersion/)

  assert.equal((await put(s, `${base}/argo/t`, { template: v1 })).status, 200)
  const stale = await put<ErrorBody>(s, `${base}/argo/t`, { template: v1 })
  assert.equal(stale.status, 409)
  assert.equal(stale.body.code, 6)
  assert.match(stale.body.message, /the object has been modified/)

  // upstream updates the object the body names; {name} in the path is deprecated and ignored
  const current = (await s.json<Obj>(`${base}/argo/t`)).body
  const byBody = await put(s, `${base}/argo/whatever`, { name: 'whatever', template: current })
  assert.equal(byBody.status, 200)
  assert.equal(byBody.body.metadata.name, 't')

  assert.deepEqual((await put(s, `${base}/argo/t`, {})).body, { code: 3, message: 'WorkflowTemplate is not found in Request body' })
  const invalid = await put<ErrorBody>(s, `${base}/argo/t`, { template: { ...current, spec: { templates: 'x' } } })
  assert.equal(invalid.status, 400)
  assert.match(invalid.body.message, /spec\.templates: must be array/)
  const absent = await put<ErrorBody>(s, `${base}/argo/nope`, { template: { ...aTemplate('nope'), metadata: { name: 'nope', resourceVersion: '1' } } })
  assert.equal(absent.status, 404)
})

test('WorkflowTemplate create and lint errors: every problem named, 409 on a duplicate, nothing created', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  const bad = await post<ErrorBody>(s, `${base}/argo`, { template: twoProblems('bad') })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 3)
  assert.match(bad.body.message, /spec\.templates\[0\]: .*template type unspecified/)
  assert.match(bad.body.message, /spec\.entrypoint: template 'nope' undefined/)
  const lint = await post<ErrorBody>(s, `${base}/argo/lint`, { template: twoProblems('bad') })
  assert.equal(lint.status, 400)
  assert.equal(lint.body.message, bad.body.message, 'lint reports every problem, as create does')
  assert.equal((await s.json(`${base}/argo/bad`)).status, 404, 'a failed create creates nothing')

  const missing = await post<ErrorBody>(s, `${base}/argo`, {})
  assert.deepEqual(missing.body, { code: 3, message: 'workflow template was not found in the request body' })
  assert.equal((await post<ErrorBody>(s, `${base}/argo/lint`, {})).status, 400)
  const wrongType = await post<ErrorBody>(s, `${base}/argo`, { template: 'x' })
  assert.equal(wrongType.status, 400)
  assert.match(wrongType.body.message, /template/)
  const badName = await post<ErrorBody>(s, `${base}/argo`, { template: aTemplate('Bad_Name') })
  assert.equal(badName.status, 400)
  assert.match(badName.body.message, /metadata\.name/)

  const ok = await post(s, `${base}/argo/lint`, { template: aTemplate('fine') })
  assert.equal(ok.status, 200)
  assert.equal(ok.body.metadata.labels?.['workflows.argoproj.io/creator'], EDITOR, 'lint answers the labelled input')
  assert.equal(ok.body.metadata.uid, undefined)
  assert.equal((await s.json(`${base}/argo/fine`)).status, 404, 'lint creates nothing')

  const dry = await post(s, `${base}/argo`, { template: aTemplate('dry'), createOptions: { dryRun: ['All'] } })
  assert.equal(dry.status, 200)
  assert.equal((await s.json(`${base}/argo/dry`)).status, 404, 'createOptions.dryRun creates nothing')

  assert.equal((await post(s, `${base}/argo`, { template: aTemplate('dup') })).status, 200)
  const dup = await post<ErrorBody>(s, `${base}/argo`, { template: aTemplate('dup') })
  assert.equal(dup.status, 409)
  assert.deepEqual(dup.body, { code: 6, message: 'workflowtemplates.argoproj.io "dup" already exists' })
  const otherNs = await post<ErrorBody>(s, `${base}/argo`, { template: { ...aTemplate('x'), metadata: { name: 'x', namespace: 'default' } } })
  assert.equal(otherNs.status, 400, 'the body namespace must agree with the path')
  assert.equal((await s.req(`${base}/argo`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } })).status, 400)
})

test('WorkflowTemplate list: labelSelector, limit/continue, namePattern paging, all namespaces, bad options', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  for (const [name, team] of [['a-one', 'x'], ['b-two', 'y'], ['c-one', 'x'], ['d-one', 'y']]) {
    assert.equal((await post(s, `${base}/argo`, { template: aTemplate(name as string, { team: team as string }) })).status, 200)
  }
  await post(s, `${base}/default`, { template: aTemplate('elsewhere') })
  const sel = await s.json<ListBody>(`${base}/argo?listOptions.labelSelector=team%3Dx`)
  assert.deepEqual(names(sel.body), ['a-one', 'c-one'])
  const notIn = await s.json<ListBody>(`${base}/argo?listOptions.labelSelector=team%20notin%20(x)`)
  assert.deepEqual(names(notIn.body), ['b-two', 'd-one'])

  const p1 = await s.json<ListBody>(`${base}/argo?listOptions.limit=3`)
  assert.deepEqual(names(p1.body), ['a-one', 'b-two', 'c-one'])
  assert.ok(p1.body.metadata.continue)
  const p2 = await s.json<ListBody>(`${base}/argo?listOptions.limit=3&listOptions.continue=${encodeURIComponent(p1.body.metadata.continue ?? '')}`)
  assert.deepEqual(names(p2.body), ['d-one'])
  assert.equal(p2.body.metadata.continue, undefined)

  // namePattern: a substring; pages newest resourceVersion first, continue = the last item's resourceVersion (spec §2.10)
  const n1 = await s.json<ListBody>(`${base}/argo?namePattern=one&listOptions.limit=2`)
  assert.deepEqual(names(n1.body), ['c-one', 'd-one'], 'the two newest, then sorted by name')
  const d = n1.body.items?.find((i) => i.metadata.name === 'c-one')
  assert.equal(n1.body.metadata.continue, d?.metadata.resourceVersion)
  const n2 = await s.json<ListBody>(`${base}/argo?namePattern=one&listOptions.limit=2&listOptions.continue=${n1.body.metadata.continue ?? ''}`)
  assert.deepEqual(names(n2.body), ['a-one'])
  assert.equal(n2.body.metadata.continue, undefined)
  assert.deepEqual(names((await s.json<ListBody>(`${base}/argo?namePattern=zzz`)).body), [])

  const all = await s.json<ListBody>(`${base}/`)
  assert.equal(all.status, 200)
  assert.deepEqual(names(all.body), ['a-one', 'b-two', 'c-one', 'd-one', 'elsewhere'])

  const badSel = await s.json<ErrorBody>(`${base}/argo?listOptions.labelSelector=a%3D%3D%3Db`)
  assert.equal(badSel.status, 400)
  assert.match(badSel.body.message, /^listOptions\.labelSelector: /)
  const badLimit = await s.json<ErrorBody>(`${base}/argo?listOptions.limit=abc`)
  assert.equal(badLimit.status, 400)
  assert.match(badLimit.body.message, /listOptions\.limit/)
  assert.equal((await s.json(`${base}/argo?namePattern=one&listOptions.continue=abc`)).status, 400)
})

test("WorkflowTemplates of another instance ID are not listed and not served, updated or deleted", async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  const ref = { group: 'argoproj.io', resource: 'workflowtemplates', namespace: 'argo' }
  const foreign = s.emulator.create(ref, { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', ...aTemplate('foreign', { 'workflows.argoproj.io/controller-instanceid': 'other' }) })
  assert.deepEqual(names((await s.json<ListBody>(`${base}/argo`)).body), [])
  const get = await s.json<ErrorBody>(`${base}/argo/foreign`)
  assert.deepEqual(get.body, { code: 3, message: "'foreign' is not managed by the current Argo Server" })
  assert.equal((await s.json(`${base}/argo/foreign`, { method: 'DELETE' })).status, 400)
  assert.equal((await put(s, `${base}/argo/foreign`, { template: foreign })).status, 400)
  assert.ok(s.emulator.get(ref, 'foreign'), 'still there')
})

test('calls to Kubernetes reuse kept-alive connections, across callers (client-node 1.x alone opens one per call)', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  await post(s, `${base}/argo`, { template: aTemplate('kept') })
  const before = s.emulator.connectionCount()
  const reads = await Promise.all(Array.from({ length: 4 }, () => s.json<Obj>(`${base}/argo/kept`)))
  for (let i = 0; i < 16; i++) reads.push(await s.json<Obj>(`${base}/argo/kept`, { token: i % 2 ? editor.token : s.emulator.adminToken }))
  assert.deepEqual(reads.map((r) => r.status), Array(20).fill(200))
  // 20 proxied GETs (plus the access reviews of a new caller): at most one connection per concurrent request.
  assert.ok(s.emulator.connectionCount() - before <= 4, `${s.emulator.connectionCount() - before} new connections`)
})
