import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { call, meta, wf, WF, WF_PATH } from './helpers.js'

let emu: Emulator
before(async () => {
  emu = await startEmulator({ namespaces: ['argo', 'default'] })
})
after(() => emu.close())

test('create, get, list, delete a workflow with apiserver metadata', async () => {
  const c = await call(emu, 'POST', WF_PATH, { body: wf('crud-1') })
  assert.equal(c.status, 201)
  const m = meta(c.json)
  assert.equal(m.name, 'crud-1')
  assert.equal(m.namespace, 'argo')
  assert.match(String(m.uid), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  assert.match(String(m.resourceVersion), /^\d+$/)
  assert.match(String(m.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  assert.equal(m.generation, 1)
  assert.equal(c.json.kind, 'Workflow')
  assert.equal(c.json.apiVersion, 'argoproj.io/v1alpha1')

  const g = await call(emu, 'GET', `${WF_PATH}/crud-1`)
  assert.equal(g.status, 200)
  assert.deepEqual(g.json, c.json)

  const d = await call(emu, 'DELETE', `${WF_PATH}/crud-1`, { body: { propagationPolicy: 'Background' } })
  assert.equal(d.status, 200)
  assert.equal(d.json.status, 'Success')
  const again = await call(emu, 'GET', `${WF_PATH}/crud-1`)
  assert.equal(again.status, 404)
  assert.deepEqual(again.json, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: 'workflows.argoproj.io "crud-1" not found', reason: 'NotFound',
    details: { name: 'crud-1', group: 'argoproj.io', kind: 'workflows' }, code: 404,
  })
})

test('resourceVersion is one global increasing counter', async () => {
  const a = await call(emu, 'POST', WF_PATH, { body: wf('rv-a') })
  const b = await call(emu, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'rv-b' } } })
  assert.ok(Number(meta(b.json).resourceVersion) > Number(meta(a.json).resourceVersion))
  const list = await call(emu, 'GET', '/api/v1/namespaces/default/configmaps')
  assert.ok(Number(meta(list.json).resourceVersion) >= Number(meta(b.json).resourceVersion))
})

test('AlreadyExists for duplicate names (CRD and core)', async () => {
  await call(emu, 'POST', WF_PATH, { body: wf('dup') })
  const again = await call(emu, 'POST', WF_PATH, { body: wf('dup') })
  assert.equal(again.status, 409)
  assert.equal(again.json.reason, 'AlreadyExists')
  assert.equal(again.json.message, 'workflows.argoproj.io "dup" already exists')
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'main', image: 'x' }] } }
  await call(emu, 'POST', '/api/v1/namespaces/argo/pods', { body: pod })
  const p2 = await call(emu, 'POST', '/api/v1/namespaces/argo/pods', { body: pod })
  assert.equal(p2.json.message, 'pods "p" already exists')
  assert.deepEqual(p2.json.details, { name: 'p', kind: 'pods' })
})

test('generateName appends 5 random lowercase alphanumerics', async () => {
  const c = await call(emu, 'POST', WF_PATH, { body: { metadata: { generateName: 'gen-' }, spec: {} } })
  assert.equal(c.status, 201)
  assert.match(String(meta(c.json).name), /^gen-[a-z0-9]{5}$/)
  assert.equal(meta(c.json).generateName, 'gen-')
})

test('invalid input: missing name, bad name, bad JSON, wrong namespace, missing namespace', async () => {
  const noName = await call(emu, 'POST', WF_PATH, { body: { metadata: {} } })
  assert.equal(noName.status, 422)
  assert.equal(noName.json.reason, 'Invalid')
  assert.equal(noName.json.message, 'Workflow.argoproj.io "" is invalid: metadata.name: Required value: name or generateName is required')

  const bad = await call(emu, 'POST', WF_PATH, { body: wf('Bad_Name') })
  assert.equal(bad.status, 422)
  assert.match(String(bad.json.message), /^Workflow\.argoproj\.io "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/)
  assert.deepEqual({ ...(bad.json.details as object), causes: undefined }, { name: 'Bad_Name', group: 'argoproj.io', kind: 'Workflow', causes: undefined })

  const garbage = await call(emu, 'POST', WF_PATH, { rawBody: '{not json' })
  assert.equal(garbage.status, 400)
  assert.equal(garbage.json.reason, 'BadRequest')

  const arr = await call(emu, 'POST', WF_PATH, { body: [1, 2] })
  assert.equal(arr.status, 400)

  const wrongNs = await call(emu, 'POST', WF_PATH, { body: { ...wf('x'), metadata: { name: 'x', namespace: 'other' } } })
  assert.equal(wrongNs.status, 400)
  assert.equal(wrongNs.json.message, 'the namespace of the provided object does not match the namespace sent on the request')

  const noNs = await call(emu, 'POST', '/apis/argoproj.io/v1alpha1/namespaces/nope/workflows', { body: wf('x') })
  assert.equal(noNs.status, 404)
  assert.equal(noNs.json.message, 'namespaces "nope" not found')
})

test('unknown paths and methods answer a Status, never crash', async () => {
  const r = await call(emu, 'GET', '/apis/nope.io/v1/things')
  assert.equal(r.status, 404)
  assert.equal(r.json.message, 'the server could not find the requested resource')
  assert.equal((await call(emu, 'GET', '/api/v1/namespaces/argo/pods/p/bogus')).status, 404)
  assert.equal((await call(emu, 'GET', '/%E0%A4%A')).status, 404)
  assert.equal((await call(emu, 'GET', '/version')).json.major, '1')
})

test('PUT: stale resourceVersion → Conflict, missing → Invalid for CRDs, fresh → MODIFIED with bumped generation', async () => {
  const c = await call(emu, 'POST', WF_PATH, { body: wf('put-1') })
  const obj = c.json
  const fresh = { ...obj, spec: { entrypoint: 'other' } }
  const ok = await call(emu, 'PUT', `${WF_PATH}/put-1`, { body: fresh })
  assert.equal(ok.status, 200)
  assert.equal(meta(ok.json).generation, 2)
  assert.ok(Number(meta(ok.json).resourceVersion) > Number(meta(obj).resourceVersion))

  const stale = await call(emu, 'PUT', `${WF_PATH}/put-1`, { body: fresh })
  assert.equal(stale.status, 409)
  assert.equal(stale.json.reason, 'Conflict')
  assert.equal(stale.json.message, 'Operation cannot be fulfilled on workflows.argoproj.io "put-1": the object has been modified; please apply your changes to the latest version and try again')

  const noRv = await call(emu, 'PUT', `${WF_PATH}/put-1`, { body: { ...fresh, metadata: { name: 'put-1' } } })
  assert.equal(noRv.status, 422)

  const missing = await call(emu, 'PUT', `${WF_PATH}/nope`, { body: { ...wf('nope'), metadata: { name: 'nope', resourceVersion: '1' } } })
  assert.equal(missing.status, 404)
})

test('status subresource only changes status', async () => {
  const c = await call(emu, 'POST', WF_PATH, { body: wf('st-1') })
  const r = await call(emu, 'PUT', `${WF_PATH}/st-1/status`, { body: { ...c.json, spec: { entrypoint: 'ignored' }, status: { phase: 'Running' } } })
  assert.equal(r.status, 200)
  assert.deepEqual(r.json.status, { phase: 'Running' })
  assert.deepEqual(r.json.spec, { entrypoint: 'main' })
  const p = await call(emu, 'PATCH', `${WF_PATH}/st-1/status`, { body: { status: { phase: 'Succeeded' } }, contentType: 'application/merge-patch+json' })
  assert.deepEqual(p.json.status, { phase: 'Succeeded' })
})

test('merge and JSON patches (strategic on built-ins only); test op failure is rejected', async () => {
  await call(emu, 'POST', WF_PATH, { body: wf('patch-1', { a: '1', b: '2' }) })
  const mp = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: { metadata: { labels: { a: null, c: '3' } }, spec: { x: { y: 1 } } }, contentType: 'application/merge-patch+json' })
  assert.equal(mp.status, 200)
  assert.deepEqual(meta(mp.json).labels, { b: '2', c: '3' })
  assert.deepEqual(mp.json.spec, { entrypoint: 'main', x: { y: 1 } })

  // As the apiserver: a custom resource has no strategic-merge schema, so that patch type is not accepted (kubectl
  // falls back to a merge patch); a built-in takes it.
  const sp = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: { spec: { x: null } }, contentType: 'application/strategic-merge-patch+json' })
  assert.equal(sp.status, 415)
  assert.equal(sp.json.reason, 'UnsupportedMediaType')
  assert.equal(sp.json.message, 'the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json')
  const CM_PATH = '/api/v1/namespaces/argo/configmaps'
  assert.equal((await call(emu, 'POST', CM_PATH, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patch-cm' }, data: { a: '1', b: '2' } } })).status, 201)
  const cm = await call(emu, 'PATCH', `${CM_PATH}/patch-cm`, { body: { data: { a: null } }, contentType: 'application/strategic-merge-patch+json' })
  assert.equal(cm.status, 200)
  assert.deepEqual(cm.json.data, { b: '2' })
  const cleared = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: { spec: { x: null } }, contentType: 'application/merge-patch+json' })
  assert.deepEqual(cleared.json.spec, { entrypoint: 'main' })

  const ops = [
    { op: 'test', path: '/spec/entrypoint', value: 'main' },
    { op: 'add', path: '/spec/args', value: [1, 3] },
    { op: 'add', path: '/spec/args/1', value: 2 },
    { op: 'copy', from: '/spec/entrypoint', path: '/spec/copy' },
    { op: 'move', from: '/spec/copy', path: '/spec/moved' },
    { op: 'replace', path: '/spec/entrypoint', value: 'next' },
    { op: 'remove', path: '/metadata/labels/b' },
  ]
  const jp = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: ops, contentType: 'application/json-patch+json' })
  assert.equal(jp.status, 200)
  assert.deepEqual(jp.json.spec, { entrypoint: 'next', args: [1, 2, 3], moved: 'main' })
  assert.deepEqual(meta(jp.json).labels, { c: '3' })

  const failing = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: [{ op: 'test', path: '/spec/entrypoint', value: 'main' }], contentType: 'application/json-patch+json' })
  assert.equal(failing.status, 422)
  const unchanged = await call(emu, 'GET', `${WF_PATH}/patch-1`)
  assert.equal(meta(unchanged.json).resourceVersion, meta(jp.json).resourceVersion)

  const stale = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: { metadata: { resourceVersion: '1' } }, contentType: 'application/merge-patch+json' })
  assert.equal(stale.status, 409)
  const notFound = await call(emu, 'PATCH', `${WF_PATH}/nope`, { body: {}, contentType: 'application/merge-patch+json' })
  assert.equal(notFound.status, 404)
  assert.equal(notFound.json.message, 'workflows.argoproj.io "nope" not found')
  const badType = await call(emu, 'PATCH', `${WF_PATH}/patch-1`, { body: {}, contentType: 'text/plain' })
  assert.equal(badType.status, 415)
})

test('dryRun=All stores nothing', async () => {
  const c = await call(emu, 'POST', `${WF_PATH}?dryRun=All`, { body: wf('dry-1') })
  assert.equal(c.status, 201)
  assert.equal((await call(emu, 'GET', `${WF_PATH}/dry-1`)).status, 404)
  await call(emu, 'POST', WF_PATH, { body: wf('dry-2') })
  const p = await call(emu, 'PATCH', `${WF_PATH}/dry-2?dryRun=All`, { body: { spec: { z: 1 } }, contentType: 'application/merge-patch+json' })
  assert.deepEqual(p.json.spec, { entrypoint: 'main', z: 1 })
  assert.deepEqual((await call(emu, 'GET', `${WF_PATH}/dry-2`)).json.spec, { entrypoint: 'main' })
  await call(emu, 'DELETE', `${WF_PATH}/dry-2?dryRun=All`)
  assert.equal((await call(emu, 'GET', `${WF_PATH}/dry-2`)).status, 200)
})

test('finalizers delay deletion until removed', async () => {
  await call(emu, 'POST', WF_PATH, { body: { ...wf('fin-1'), metadata: { name: 'fin-1', finalizers: ['example.com/keep'] } } })
  const d = await call(emu, 'DELETE', `${WF_PATH}/fin-1`)
  assert.equal(d.status, 200)
  assert.match(String(meta(d.json).deletionTimestamp), /Z$/)
  const still = await call(emu, 'GET', `${WF_PATH}/fin-1`)
  assert.equal(still.status, 200)
  assert.ok(meta(still.json).deletionTimestamp)
  // As the apiserver: an object being deleted takes no new finalizers.
  const add = await call(emu, 'PATCH', `${WF_PATH}/fin-1`, { body: { metadata: { finalizers: ['example.com/keep', 'example.com/more'] } }, contentType: 'application/merge-patch+json' })
  assert.equal(add.status, 422)
  assert.match(String(add.json.message), /^Workflow\.argoproj\.io "fin-1" is invalid: metadata\.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers \[\]string\{"example\.com\/more"\}$/)
  const p = await call(emu, 'PATCH', `${WF_PATH}/fin-1`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' })
  assert.equal(p.status, 200)
  assert.equal((await call(emu, 'GET', `${WF_PATH}/fin-1`)).status, 404)
})

test('deleting a namespace deletes its objects; namespaces are real resources', async () => {
  const ns = await call(emu, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'tmp' } } })
  assert.equal(ns.status, 201)
  assert.deepEqual(ns.json.status, { phase: 'Active' })
  await call(emu, 'POST', '/apis/argoproj.io/v1alpha1/namespaces/tmp/workflows', { body: wf('w') })
  await call(emu, 'DELETE', '/api/v1/namespaces/tmp')
  assert.equal((await call(emu, 'GET', '/api/v1/namespaces/tmp')).status, 404)
  assert.equal(emu.get({ ...WF, namespace: 'tmp' }, 'w'), undefined)
})

test('direct API: create/get/list/patch/remove/subscribe', () => {
  const seen: string[] = []
  const unsub = emu.subscribe({ ...WF, namespace: 'argo' }, (type, obj) => seen.push(`${type}:${String(obj.metadata.name)}`))
  const o = emu.create({ ...WF, namespace: 'argo' }, wf('direct-1'))
  assert.equal(o.metadata.namespace, 'argo')
  assert.equal(emu.get({ ...WF, namespace: 'argo' }, 'direct-1')?.metadata.uid, o.metadata.uid)
  const p = emu.patch({ ...WF, namespace: 'argo' }, 'direct-1', { status: { phase: 'Running' } })
  assert.deepEqual(p.status, { phase: 'Running' })
  assert.ok(emu.list({ ...WF, namespace: 'argo' }).some((x) => x.metadata.name === 'direct-1'))
  emu.create({ ...WF, namespace: 'elsewhere' }, wf('direct-2'))
  emu.remove({ ...WF, namespace: 'argo' }, 'direct-1')
  unsub()
  emu.create({ ...WF, namespace: 'argo' }, wf('direct-3'))
  assert.deepEqual(seen, ['ADDED:direct-1', 'MODIFIED:direct-1', 'DELETED:direct-1'])
  assert.throws(() => emu.create({ ...WF, namespace: 'argo' }, wf('direct-3')), /already exists/)
})

test('a create carrying a resourceVersion is refused as etcd3 refuses it (500, no reason); one that does not parse is let through', async () => {
  const withRv = (name: string, resourceVersion: string) => ({ ...wf(name), metadata: { ...wf(name).metadata, resourceVersion } })
  const refused = await call(emu, 'POST', WF_PATH, { body: withRv('rv-1', '12') })
  assert.equal(refused.status, 500)
  assert.deepEqual(refused.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'resourceVersion should not be set on objects to be created', code: 500 })
  assert.equal((await call(emu, 'GET', `${WF_PATH}/rv-1`)).status, 404, 'nothing stored')
  // kubernetes#113847: a version that is not a number (or is 0) is not checked, and the stored object gets its own
  for (const [name, rv] of [['rv-2', '-1'], ['rv-3', '0']] as const) {
    const created = await call(emu, 'POST', WF_PATH, { body: withRv(name, rv) })
    assert.equal(created.status, 201)
    assert.match(String(meta(created.json).resourceVersion), /^[1-9]\d*$/)
  }
})

test('empty labels, annotations and finalizers are not kept, as the typed ObjectMeta custom resources go through', async () => {
  const c = await call(emu, 'POST', WF_PATH, { body: { ...wf('empty-1'), metadata: { name: 'empty-1', labels: {}, annotations: {}, finalizers: [] } } })
  assert.equal(c.status, 201)
  assert.deepEqual(Object.keys(meta(c.json)).filter((k) => ['labels', 'annotations', 'finalizers'].includes(k)), [])
  const labelled = await call(emu, 'PATCH', `${WF_PATH}/empty-1`, { body: { metadata: { labels: { a: '1' } } }, contentType: 'application/merge-patch+json' })
  assert.deepEqual(meta(labelled.json).labels, { a: '1' })
  const cleared = await call(emu, 'PATCH', `${WF_PATH}/empty-1`, { body: { metadata: { labels: { a: null } } }, contentType: 'application/merge-patch+json' })
  assert.equal('labels' in meta(cleared.json), false, 'the last label removed: no labels map left')
})
