import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { EDITOR, aCron, aTemplate, editor, names, post, put, type ErrorBody, type ListBody, type Obj } from '../templates/helpers.js'

const base = '/api/v1/cron-workflows'

test('CronWorkflow create, get, list, update, suspend, resume and delete over HTTP', async (t) => {
  const s = await startStack(t, { users: [editor], token: editor.token })
  assert.equal((await s.json<ListBody>(`${base}/argo`)).body.items, null)
  const created = await post(s, `${base}/argo`, { cronWorkflow: aCron('nightly') })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  assert.equal(created.body.kind, undefined)
  assert.deepEqual(created.body.status, {})
  assert.equal(created.body.metadata.labels?.['workflows.argoproj.io/creator'], EDITOR)
  assert.deepEqual((await s.json<Obj>(`${base}/argo/nightly`)).body, created.body)

  await post(s, `${base}/argo`, { cronWorkflow: { ...aCron('hourly'), metadata: { name: 'hourly', labels: { freq: 'h' } } } })
  assert.deepEqual(names((await s.json<ListBody>(`${base}/argo`)).body), ['hourly', 'nightly'])
  assert.deepEqual(names((await s.json<ListBody>(`${base}/argo?listOptions.labelSelector=freq%3Dh`)).body), ['hourly'])
  const page = await s.json<ListBody>(`${base}/argo?listOptions.limit=1`)
  assert.deepEqual(names(page.body), ['hourly'])
  assert.deepEqual(names((await s.json<ListBody>(`${base}/argo?listOptions.limit=1&listOptions.continue=${encodeURIComponent(page.body.metadata.continue ?? '')}`)).body), ['nightly'])

  const suspended = await put(s, `${base}/argo/nightly/suspend`, { name: 'ignored', namespace: 'ignored' })
  assert.equal(suspended.status, 200, JSON.stringify(suspended.body))
  assert.equal(suspended.body.spec.suspend, true)
  // the UI PUTs with no body at all (spec §2.1)
  const resumed = await s.json<Obj>(`${base}/argo/nightly/resume`, { method: 'PUT' })
  assert.equal(resumed.status, 200)
  assert.equal(resumed.body.spec.suspend, false)
  assert.equal((await s.json<ErrorBody>(`${base}/argo/none/suspend`, { method: 'PUT' })).status, 404)

  const current = (await s.json<Obj>(`${base}/argo/nightly`)).body
  const updated = await put(s, `${base}/argo/nightly`, { cronWorkflow: { ...current, spec: { ...current.spec, schedules: ['0 3 * * *'] } } })
  assert.equal(updated.status, 200, JSON.stringify(updated.body))
  assert.deepEqual(updated.body.spec.schedules, ['0 3 * * *'])
  assert.equal(updated.body.metadata.labels?.['workflows.argoproj.io/actor'], EDITOR)
  const stale = await put<ErrorBody>(s, `${base}/argo/nightly`, { cronWorkflow: current })
  assert.equal(stale.status, 409)
  assert.equal(stale.body.code, 6)
  const { resourceVersion: _rv, ...noRv } = updated.body.metadata
  const missingRv = await put<ErrorBody>(s, `${base}/argo/nightly`, { cronWorkflow: { ...updated.body, metadata: noRv } })
  assert.equal(missingRv.status, 400)
  assert.match(missingRv.body.message, /metadata\.resourceVersion/)
  assert.equal((await put(s, `${base}/argo/absent`, { cronWorkflow: aCron('absent') })).status, 404)

  assert.deepEqual((await s.json(`${base}/argo/nightly`, { method: 'DELETE' })).body, {})
  assert.deepEqual((await s.json(`${base}/argo/nightly`)).body, { code: 5, message: 'cronworkflows.argoproj.io "nightly" not found' })
  assert.equal((await s.json(`${base}/argo/nightly`, { method: 'DELETE' })).status, 404)
})

test('CronWorkflow validation: every problem named by field, lint too; references must resolve', async (t) => {
  const s = await startStack(t)
  const bad = aCron('bad', { schedules: ['61 * * * *'], timezone: 'Mars/Olympus', workflowSpec: { entrypoint: 'nope', templates: [{ name: 'main', container: { image: 'x' } }] } })
  for (const path of [`${base}/argo`, `${base}/argo/lint`]) {
    const res = await post<ErrorBody>(s, path, { cronWorkflow: bad })
    assert.equal(res.status, 400, path)
    assert.equal(res.body.code, 3)
    assert.match(res.body.message, /spec\.schedules\[0\]: cron schedule 61 \* \* \* \* is malformed/)
    assert.match(res.body.message, /spec\.timezone: provided bad location Mars\/Olympus/)
    assert.match(res.body.message, /spec\.workflowSpec\.entrypoint: template 'nope' undefined/)
  }
  const wrongType = await post<ErrorBody>(s, `${base}/argo`, { cronWorkflow: aCron('t', { suspend: 'yes' }) })
  assert.equal(wrongType.status, 400)
  assert.match(wrongType.body.message, /spec\.suspend: must be boolean/)
  assert.equal((await s.json(`${base}/argo/bad`)).status, 404, 'nothing created')
  assert.deepEqual((await post(s, `${base}/argo`, {})).body, { code: 3, message: 'cron workflow was not found in the request body' })
  assert.equal((await put(s, `${base}/argo/x`, {})).status, 400)

  const byRef = aCron('by-ref', { workflowSpec: { workflowTemplateRef: { name: 'lib' } } })
  const unresolved = await post<ErrorBody>(s, `${base}/argo`, { cronWorkflow: byRef })
  assert.equal(unresolved.status, 400)
  assert.match(unresolved.body.message, /spec\.workflowSpec\.workflowTemplateRef\.name: workflowtemplates\.argoproj\.io "lib" not found/)
  assert.equal((await post(s, '/api/v1/workflow-templates/argo', { template: aTemplate('lib') })).status, 200)
  assert.equal((await post(s, `${base}/argo/lint`, { cronWorkflow: byRef })).status, 200)
  assert.equal((await post(s, `${base}/argo`, { cronWorkflow: byRef })).status, 200)
  const dup = await post<ErrorBody>(s, `${base}/argo`, { cronWorkflow: byRef })
  assert.deepEqual(dup.body, { code: 6, message: 'cronworkflows.argoproj.io "by-ref" already exists' })
})

test('CronWorkflows of another instance ID are not listed, served, suspended or deleted', async (t) => {
  const s = await startStack(t)
  const ref = { group: 'argoproj.io', resource: 'cronworkflows', namespace: 'argo' }
  const cron = aCron('foreign')
  s.emulator.create(ref, { apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', ...cron, metadata: { name: 'foreign', labels: { 'workflows.argoproj.io/controller-instanceid': 'other' } } })
  assert.deepEqual(names((await s.json<ListBody>(`${base}/argo`)).body), [])
  assert.deepEqual((await s.json(`${base}/argo/foreign`)).body, { code: 3, message: "'foreign' is not managed by the current Argo Server" })
  assert.equal((await s.json(`${base}/argo/foreign/suspend`, { method: 'PUT' })).status, 400)
  assert.equal((await s.json(`${base}/argo/foreign`, { method: 'DELETE' })).status, 400)
  assert.equal((s.emulator.get(ref, 'foreign')?.spec as { suspend?: boolean } | undefined)?.suspend, undefined, 'unchanged')
})
