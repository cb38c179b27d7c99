import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startEmulator } from '../../emulator/index.js'
import { KubeClient } from '../../src/kube/client.js'
import { loadKubeConfig } from '../../src/kube/config.js'
import { Workflows } from '../../src/kube/resources.js'

test("several kubeconfig files (KUBECONFIG=a:b:c) merge by kubectl's rules: the first to set a name or current-context wins, missing files are skipped", async (t) => {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'))
  t.after(async () => { await emulator.close(); await rm(dir, { recursive: true, force: true }) })
  const first = await emulator.writeKubeconfig(join(dir, 'first'))
  // A second file naming the same cluster elsewhere, and its own current-context: neither wins.
  const second = join(dir, 'second')
  await writeFile(second, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'other',
    clusters: [{ name: 'emulator', cluster: { server: 'https://127.0.0.1:1' } }, { name: 'nowhere', cluster: { server: 'https://127.0.0.1:2' } }],
    users: [{ name: 'someone', user: { token: 'x' } }],
    contexts: [{ name: 'other', context: { cluster: 'nowhere', user: 'someone' } }],
  }))
  const saved = process.env.KUBECONFIG
  const kc = loadKubeConfig({ kind: 'file', path: `${first}:${second}:${join(dir, 'missing')}` })
  assert.equal(process.env.KUBECONFIG, saved, 'the environment is left as it was')
  assert.equal(kc.getCurrentCluster()?.server, emulator.url)
  assert.ok(kc.getContextObject('other'), "the second file's names are there too")
  // Reaches the cluster the first file names, with its credentials.
  emulator.create({ group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'w' } })
  const page = await new KubeClient(kc).list(Workflows, 'argo')
  assert.deepEqual(page.items.map((w) => w.metadata.name), ['w'])
})
