import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startEmulator } from '../../emulator/index.js'
import { KubeClient } from '../../src/kube/client.js'
import { loadKubeConfig } from '../../src/kube/config.js'
import { watchLoop } from '../../src/logs/watch.js'

const PODS = { group: '', resource: 'pods', namespace: 'argo' }
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { 'workflows.argoproj.io/workflow': 'wf' } }, spec: { containers: [{ name: 'main', image: 'x' }] } })

test("a log follow's watch that the API stops feeding is replaced once well past its timeoutSeconds: new pods still come", async (t) => {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const dir = await mkdtemp(join(tmpdir(), 'watch-loop-'))
  t.after(async () => { await emulator.close(); await rm(dir, { recursive: true, force: true }) })
  const kube = new KubeClient(loadKubeConfig({ kind: 'file', path: await emulator.writeKubeconfig(join(dir, 'kubeconfig')) }))
  const { resourceVersion } = await kube.listPods('argo', { labelSelector: 'workflows.argoproj.io/workflow=wf' })
  // Answered, then silent for good (a stuck proxy, a connection dropped without a word); other requests work.
  emulator.fault({ path: /\/pods$/, watch: true, hang: true })
  const seen: string[] = []
  const errors: string[] = []
  const stop = watchLoop({
    kube, path: '/api/v1/namespaces/argo/pods', labelSelector: 'workflows.argoproj.io/workflow=wf', resourceVersion, timeoutSeconds: 1,
    onEvent: (type, obj) => void seen.push(`${type} ${obj.metadata.name}`),
    relist: async () => resourceVersion,
    onError: (err) => void errors.push(err.message),
  })
  t.after(stop)
  emulator.create(PODS, pod('p1'))
  const until = Date.now() + 8_000 // before, the stuck watch was kept for good: p1 never came
  while (!seen.includes('ADDED p1') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen, ['ADDED p1'])
  assert.deepEqual(errors, [])
  assert.ok(emulator.requestCount({ path: /\/pods$/, watch: true }) >= 2, 'the stuck watch, then one from the same version')
})
