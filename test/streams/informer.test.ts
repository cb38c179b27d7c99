import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startEmulator } from '../../emulator/index.js'
import { KubeClient } from '../../src/kube/client.js'
import { loadKubeConfig } from '../../src/kube/config.js'
import { Informer, type InformerHandler } from '../../src/kube/informer.js'
import { Workflows, type KubeObject } from '../../src/kube/resources.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const create = (name: string) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' } })

test('a watch still open well past the timeoutSeconds it asked for is closed and resumed: nothing missed', async (t) => {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const dir = await mkdtemp(join(tmpdir(), 'informer-'))
  t.after(async () => { await emulator.close(); await rm(dir, { recursive: true, force: true }) })
  const kube = new KubeClient(loadKubeConfig({ kind: 'file', path: await emulator.writeKubeconfig(join(dir, 'kubeconfig')) }))
  const seen: string[] = []
  const health: string[] = []
  const handler: InformerHandler = {
    beginSync: () => {},
    syncPage: (objects: KubeObject[]) => { for (const o of objects) seen.push(`list ${o.metadata.name}`) },
    endSync: () => {},
    onEvent: (type, obj) => void seen.push(`${type} ${obj.metadata.name}`),
  }
  emulator.create(WF, create('a'))
  // The first watch is answered and then says nothing, ever, while the apiserver itself keeps answering.
  emulator.fault({ path: /workflows$/, watch: true, hang: true })
  const informer = new Informer(kube.listSource(Workflows, 'argo'), handler, { watchTimeoutSeconds: 1, stallMs: 200, onHealth: (e) => void health.push(e ? e.message : 'ok') })
  t.after(() => informer.stop())
  informer.start()
  await informer.synced
  emulator.create(WF, create('b'))
  const until = Date.now() + 10_000
  while (!seen.includes('ADDED b') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen, ['list a', 'ADDED b'])
  assert.equal(emulator.requestCount({ path: /workflows$/, watch: true }), 2, 'one stuck watch, then one that works')
  assert.deepEqual(health, [], 'the apiserver answered the probes: no outage was reported')
})
