/**
 * Where the emulator once was more lenient than a real kube-apiserver (1.28–1.31) on requests the server makes.
 * Each test cites the Kubernetes source it follows.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import { startRunner } from '../../emulator/runner.js'
import type { Emulator } from '../../emulator/index.js'
import { call } from './helpers.js'

let emu: Emulator
const WF = '/apis/argoproj.io/v1alpha1/namespaces/argo/workflows'
const CWFT = '/apis/argoproj.io/v1alpha1/clusterworkflowtemplates'
const PODS = '/api/v1/namespaces/argo/pods'
const POD_REF = { group: '', resource: 'pods', namespace: 'argo' }
const wf = (name: string, labels?: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, ...(labels ? { labels } : {}), ...extra }, spec: { entrypoint: 'main' } })

before(async () => {
  emu = await startEmulator({ namespaces: ['argo'] })
})
after(() => emu.close())

// k8s.io/apimachinery/pkg/api/validation/objectmeta.go (validateObjectMetaAccessorWithOptsCommon) and
// pkg/apis/meta/v1/validation ValidateLabels: every create and update of every kind, custom resources included.
test('a label value over 63 characters is a 422 on create, with the apiserver wording', async () => {
  const long = 'a'.repeat(64)
  const r = await call(emu, 'POST', WF, { body: wf('long-label', { 'workflows.argoproj.io/workflow-template': long }) })
  assert.equal(r.status, 422)
  assert.equal(r.json.reason, 'Invalid')
  assert.equal(r.json.message, `Workflow.argoproj.io "long-label" is invalid: metadata.labels: Invalid value: "${long}": must be no more than 63 characters`)
  assert.deepEqual((r.json.details as { causes: unknown[] }).causes, [{ reason: 'FieldValueInvalid', message: `Invalid value: "${long}": must be no more than 63 characters`, field: 'metadata.labels' }])
  assert.equal((await call(emu, 'GET', `${WF}/long-label`)).status, 404)
})

test('a label value with a space, and a bad label key, are 422', async () => {
  const v = await call(emu, 'POST', WF, { body: wf('bad-value', { team: 'a b' }) })
  assert.equal(v.status, 422)
  assert.equal(v.json.message, 'Workflow.argoproj.io "bad-value" is invalid: metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\',  or \'my_value\',  or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')')
  const k = await call(emu, 'POST', WF, { body: wf('bad-key', { 'a/b/c': 'x' }) })
  assert.equal(k.status, 422)
  assert.match(String(k.json.message), /^Workflow\.argoproj\.io "bad-key" is invalid: metadata\.labels: Invalid value: "a\/b\/c": a qualified name must consist of/)
  // empty values and prefixed keys are fine
  assert.equal((await call(emu, 'POST', WF, { body: wf('good-labels', { 'workflows.argoproj.io/phase': '', 'x.io/y_z': 'A.b-c' }) })).status, 201)
})

test('a merge patch that sets a bad label is 422 and changes nothing', async () => {
  assert.equal((await call(emu, 'POST', WF, { body: wf('patched') })).status, 201)
  const r = await call(emu, 'PATCH', `${WF}/patched`, { body: { metadata: { labels: { 'workflows.argoproj.io/resubmitted-from-workflow': 'x'.repeat(70) } } }, contentType: 'application/merge-patch+json' })
  assert.equal(r.status, 422)
  assert.match(String(r.json.message), /^Workflow\.argoproj\.io "patched" is invalid: metadata\.labels: Invalid value: "x{70}": must be no more than 63 characters$/)
  const got = await call(emu, 'GET', `${WF}/patched`)
  assert.equal((got.json.metadata as { labels?: unknown }).labels, undefined)
})

test('annotation keys are qualified names; finalizer names too', async () => {
  const a = await call(emu, 'POST', WF, { body: wf('bad-annotation', undefined, { annotations: { 'not a key': 'v' } }) })
  assert.equal(a.status, 422)
  assert.match(String(a.json.message), /^Workflow\.argoproj\.io "bad-annotation" is invalid: metadata\.annotations: Invalid value: "not a key": name part must consist of/)
  const f = await call(emu, 'POST', WF, { body: wf('bad-finalizer', undefined, { finalizers: ['not/a/finalizer'] }) })
  assert.equal(f.status, 422)
  assert.match(String(f.json.message), /metadata\.finalizers: Invalid value: "not\/a\/finalizer": a qualified name must consist of/)
  const ok = await call(emu, 'POST', WF, { body: wf('archive-finalizer', undefined, { finalizers: ['workflows.argoproj.io/archive'] }) })
  assert.equal(ok.status, 201)
})

test('annotations over 256 KiB in total are 422 TooLong', async () => {
  const r = await call(emu, 'POST', WF, { body: wf('huge-annotations', undefined, { annotations: { big: 'x'.repeat(256 * 1024) } }) })
  assert.equal(r.status, 422)
  assert.equal(r.json.message, 'Workflow.argoproj.io "huge-annotations" is invalid: metadata.annotations: Too long: must have at most 262144 bytes')
})

// apiextensions-apiserver pkg/apiserver/conversion/converter.go crConverter.ConvertFieldLabel: a cluster-scoped
// custom resource supports metadata.name only.
test('a cluster-scoped custom resource has no metadata.namespace field selector', async () => {
  const r = await call(emu, 'GET', `${CWFT}?fieldSelector=${encodeURIComponent('metadata.namespace=argo')}`)
  assert.equal(r.status, 400)
  assert.equal(r.json.message, 'field label not supported: metadata.namespace')
  assert.equal((await call(emu, 'GET', `${CWFT}?fieldSelector=${encodeURIComponent('metadata.name=x')}`)).status, 200)
  assert.equal((await call(emu, 'GET', `${WF}?fieldSelector=${encodeURIComponent('metadata.namespace=argo')}`)).status, 200)
})

// storage/etcd3/store.go GetList and test/integration/apiserver/apiserver_test.go testListOptionsCase: without
// resourceVersionMatch, a version with a continue token is refused, and a paged list at a version is of that exact
// version ("legacy exact"), 410 once compacted.
test('list: resourceVersion with continue is 400; with limit it is an exact list of that version', async () => {
  for (const n of ['rv-a', 'rv-b', 'rv-c']) assert.equal((await call(emu, 'POST', WF, { body: wf(n, { set: 'rv' }) })).status, 201)
  const first = await call(emu, 'GET', `${WF}?labelSelector=set%3Drv&limit=1`)
  const token = String((first.json.metadata as { continue: string }).continue)
  const rv = String((first.json.metadata as { resourceVersion: string }).resourceVersion)
  const both = await call(emu, 'GET', `${WF}?labelSelector=set%3Drv&limit=1&continue=${encodeURIComponent(token)}&resourceVersion=${rv}`)
  assert.equal(both.status, 400)
  assert.equal(both.json.message, 'specifying resource version is not allowed when using continue')
  assert.equal((await call(emu, 'GET', `${WF}?labelSelector=set%3Drv&limit=1&continue=${encodeURIComponent(token)}&resourceVersion=0`)).status, 200)

  // a paged list at the first page's version still shows rv-a, deleted since; an unpaged one is "not older than" it
  const before = Number(rv)
  assert.equal((await call(emu, 'DELETE', `${WF}/rv-a`)).status, 200)
  const exact = await call(emu, 'GET', `${WF}?labelSelector=set%3Drv&limit=10&resourceVersion=${before}`)
  assert.equal(exact.status, 200)
  assert.deepEqual((exact.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['rv-a', 'rv-b', 'rv-c'])
  assert.equal((exact.json.metadata as { resourceVersion: string }).resourceVersion, String(before))
  const current = await call(emu, 'GET', `${WF}?labelSelector=set%3Drv&resourceVersion=${before}`)
  assert.deepEqual((current.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['rv-b', 'rv-c'])

  emu.compact()
  const gone = await call(emu, 'GET', `${WF}?labelSelector=set%3Drv&limit=10&resourceVersion=${before}`)
  assert.equal(gone.status, 410)
  assert.equal(gone.json.reason, 'Expired')
})

// storage/etcd3/store.go interpretListError → handleCompactedErrorForPaging: a continue token whose revision was
// compacted is 410 Expired, with a token that goes on at the latest version.
test('list: a continue token whose version was compacted is 410, with an inconsistent continue token', async () => {
  for (const n of ['ct-a', 'ct-b', 'ct-c']) assert.equal((await call(emu, 'POST', WF, { body: wf(n, { set: 'ct' }) })).status, 201)
  const first = await call(emu, 'GET', `${WF}?labelSelector=set%3Dct&limit=1`)
  const token = String((first.json.metadata as { continue: string }).continue)
  assert.equal((await call(emu, 'POST', WF, { body: wf('ct-later') })).status, 201)
  emu.compact() // up to the latest revision: the first page's is gone
  const r = await call(emu, 'GET', `${WF}?labelSelector=set%3Dct&limit=1&continue=${encodeURIComponent(token)}`)
  assert.equal(r.status, 410)
  assert.equal(r.json.reason, 'Expired')
  assert.match(String(r.json.message), /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter, or use the continue token in this response/)
  const next = String((r.json.metadata as { continue?: string }).continue)
  const rest = await call(emu, 'GET', `${WF}?labelSelector=set%3Dct&limit=5&continue=${encodeURIComponent(next)}`)
  assert.equal(rest.status, 200)
  assert.deepEqual((rest.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['ct-b', 'ct-c'])
})

test('list: a resourceVersion the server has not reached is 504 Too large resource version', async () => {
  const r = await call(emu, 'GET', `${WF}?resourceVersion=999999999`)
  assert.equal(r.status, 504)
  assert.match(String(r.json.message), /^Too large resource version: 999999999, current: \d+$/)
})

// apimachinery/pkg/apis/meta/v1/validation ValidateDeleteOptions, a 422 from rest.BeforeDelete.
test('delete: a propagationPolicy that is not one is 422', async () => {
  assert.equal((await call(emu, 'POST', WF, { body: wf('to-delete') })).status, 201)
  const r = await call(emu, 'DELETE', `${WF}/to-delete?propagationPolicy=Sometimes`)
  assert.equal(r.status, 422)
  assert.equal(r.json.message, 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sometimes": supported values: "Foreground", "Background", "Orphan", "nil"')
  assert.equal((await call(emu, 'GET', `${WF}/to-delete`)).status, 200)
  assert.equal((await call(emu, 'DELETE', `${WF}/to-delete?propagationPolicy=Background`)).status, 200)
})

// pkg/kubelet/kubelet_pods.go validateContainerLogStatus, relayed by the apiserver as a 400 (generic
// HttpResponseChecker of pods/log): a container that has not started has no log.
test('pods/log: a container still waiting to start is 400, with the kubelet wording', async () => {
  const statuses = (state: Record<string, unknown>, extra: Record<string, unknown> = {}) => [{ name: 'main', ready: false, restartCount: 0, image: 'alpine', state, ...extra }]
  emu.create(POD_REF, { metadata: { name: 'starting' }, spec: { nodeName: 'n', containers: [{ name: 'main' }] }, status: { phase: 'Pending', containerStatuses: statuses({ waiting: { reason: 'ContainerCreating' } }) } })
  const r = await call(emu, 'GET', `${PODS}/starting/log?container=main`)
  assert.equal(r.status, 400)
  assert.equal(r.json.reason, 'BadRequest')
  assert.equal(r.json.message, 'container "main" in pod "starting" is waiting to start: ContainerCreating')

  emu.create(POD_REF, { metadata: { name: 'pulling' }, spec: { nodeName: 'n', containers: [{ name: 'main' }] }, status: { phase: 'Pending', containerStatuses: statuses({ waiting: { reason: 'ImagePullBackOff' } }) } })
  assert.equal((await call(emu, 'GET', `${PODS}/pulling/log?container=main`)).json.message, 'container "main" in pod "pulling" is waiting to start: trying and failing to pull image')

  const id = 'containerd://0123'
  emu.create(POD_REF, { metadata: { name: 'ran' }, spec: { nodeName: 'n', containers: [{ name: 'main' }] }, status: { phase: 'Succeeded', containerStatuses: statuses({ terminated: { exitCode: 0, containerID: id } }, { containerID: id }) } })
  emu.appendPodLog('argo', 'ran', 'main', 'hello')
  assert.equal((await call(emu, 'GET', `${PODS}/ran/log?container=main`)).text, 'hello\n')
  const prev = await call(emu, 'GET', `${PODS}/ran/log?container=main&previous=true`)
  assert.equal(prev.status, 400)
  assert.equal(prev.json.message, 'previous terminated container "main" in pod "ran" not found')
})

test('pods/log: the runner\'s pods carry container IDs once started, so their logs are served', async () => {
  const runner = startRunner(emu, { stepMs: 20, namespaces: ['argo'] })
  try {
    const spec = { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'alpine', command: ['echo', 'hi'] } }] }
    const name = emu.create({ group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }, { metadata: { generateName: 'ids-' }, spec }).metadata.name ?? ''
    await runner.idle()
    const pods = await call(emu, 'GET', `${PODS}?labelSelector=${encodeURIComponent(`workflows.argoproj.io/workflow=${name}`)}`)
    const pod = (pods.json.items as { metadata: { name: string }; status: { containerStatuses: { name: string; containerID?: string; state: { terminated?: { containerID?: string } } }[] } }[])[0]
    assert.ok(pod)
    for (const c of pod.status.containerStatuses) {
      assert.match(String(c.containerID), /^containerd:\/\/[0-9a-f]{64}$/)
      assert.equal(c.state.terminated?.containerID, c.containerID)
    }
    const log = await call(emu, 'GET', `${PODS}/${pod.metadata.name}/log?container=main`)
    assert.equal(log.status, 200)
    assert.equal(log.text, 'hi\n')
  } finally {
    await runner.stop()
  }
})
