/** @kubernetes/client-node against the emulator, over TLS with the emulator's CA, as the server will use it. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  ApiException, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions,
} from '@kubernetes/client-node'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { wf, WF } from './helpers.js'

let emu: Emulator
let kc: KubeConfig
const G = { group: 'argoproj.io', version: 'v1alpha1', plural: 'workflows', namespace: 'argo' }

before(async () => {
  emu = await startEmulator({ tls: true, namespaces: ['argo'] })
  kc = new KubeConfig()
  kc.loadFromString(emu.kubeconfig(emu.adminToken, 'argo'))
})
after(() => emu.close())

interface Obj { metadata: { name: string; resourceVersion: string; labels?: Record<string, string> }; spec?: unknown; items?: Obj[] }

test('CustomObjectsApi: create, list with selector and paging, get, merge patch', async () => {
  const api = kc.makeApiClient(CustomObjectsApi)
  for (const n of ['a', 'b', 'c']) await api.createNamespacedCustomObject({ ...G, body: wf(n, { keep: n === 'c' ? 'no' : 'yes' }) })
  const list = (await api.listNamespacedCustomObject({ ...G, labelSelector: 'keep=yes' })) as Obj
  assert.deepEqual(list.items?.map((i) => i.metadata.name), ['a', 'b'])

  const page = (await api.listNamespacedCustomObject({ ...G, limit: 2 })) as Obj & { metadata: { continue?: string } }
  assert.equal(page.items?.length, 2)
  const rest = (await api.listNamespacedCustomObject({ ...G, limit: 2, _continue: page.metadata.continue })) as Obj
  assert.deepEqual(rest.items?.map((i) => i.metadata.name), ['c'])

  const got = (await api.getNamespacedCustomObject({ ...G, name: 'a' })) as Obj
  assert.equal(got.metadata.name, 'a')

  const patched = (await api.patchNamespacedCustomObject({ ...G, name: 'a', body: { spec: { x: 1 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as Obj
  assert.deepEqual(patched.spec, { entrypoint: 'main', x: 1 })
})

test('errors surface as ApiException with the Status body', async () => {
  const api = kc.makeApiClient(CustomObjectsApi)
  await assert.rejects(api.getNamespacedCustomObject({ ...G, name: 'missing' }), (err: unknown) => {
    assert.ok(err instanceof ApiException)
    assert.equal(err.code, 404)
    assert.match(String(err.body), /workflows\.argoproj\.io \\?"missing\\?" not found/)
    return true
  })
})

test('Watch: events from a resourceVersion, then the stream ends on timeoutSeconds', async () => {
  const api = kc.makeApiClient(CustomObjectsApi)
  const list = (await api.listNamespacedCustomObject(G)) as { metadata: { resourceVersion: string } }
  const events: string[] = []
  let resolveDone: (err: unknown) => void = () => {}
  const done = new Promise<unknown>((resolve) => { resolveDone = resolve })
  let sawAll: () => void = () => {}
  const all = new Promise<void>((resolve) => { sawAll = resolve })
  await new Watch(kc).watch('/apis/argoproj.io/v1alpha1/namespaces/argo/workflows',
    { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 1 },
    (type, obj: Obj) => {
      if (type === 'BOOKMARK') return
      events.push(`${type}:${obj.metadata.name}`)
      if (events.length === 3) sawAll()
    },
    (err) => resolveDone(err))
  emu.create({ ...WF, namespace: 'argo' }, wf('watched'))
  emu.patch({ ...WF, namespace: 'argo' }, 'watched', { status: { phase: 'Running' } })
  emu.remove({ ...WF, namespace: 'argo' }, 'watched')
  await all
  assert.deepEqual(events, ['ADDED:watched', 'MODIFIED:watched', 'DELETED:watched'])
  const err = await done
  assert.ok(err === null || err === undefined, `watch ended with ${String(err)}`)
})

test('CoreV1Api pod logs and AuthorizationV1Api SelfSubjectAccessReview', async () => {
  const core = kc.makeApiClient(CoreV1Api)
  await core.createNamespacedPod({ namespace: 'argo', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'main', image: 'x' }] } } })
  emu.appendPodLog('argo', 'p', 'main', 'hello')
  const log = await core.readNamespacedPodLog({ namespace: 'argo', name: 'p', container: 'main' })
  assert.equal(log, 'hello\n')

  const authz = kc.makeApiClient(AuthorizationV1Api)
  const r = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: 'argo', verb: 'list', group: 'argoproj.io', resource: 'workflows' } } } })
  assert.equal(r.status?.allowed, true)
})
