import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startEmulator } from '../../emulator/index.js'
import { LeaseElector } from '../../src/archive/lease.js'
import { KubeClient } from '../../src/kube/client.js'
import { loadKubeConfig } from '../../src/kube/config.js'
import { until } from './helpers.js'

test('Lease expiry is judged by this replica\'s clock: a holder whose clock runs 40 s behind keeps its Lease while it renews', async (t) => {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const dir = await mkdtemp(join(tmpdir(), 'lease-'))
  t.after(async () => {
    await emulator.close()
    await rm(dir, { recursive: true, force: true })
  })
  const kube = new KubeClient(loadKubeConfig({ kind: 'file', path: await emulator.writeKubeconfig(join(dir, 'kubeconfig')) }))
  // Another replica holds the Lease and renews it every 100 ms, writing renewTime by its clock, 40 s behind ours.
  const renew = async () => {
    const cur = await kube.getLease('argo', 'archiver')
    const behind = Date.now() - 40_000
    await kube.writeLease('argo', 'archiver', {
      holderIdentity: 'other-replica', leaseDurationSeconds: 1, acquireTime: cur?.acquireTime ?? behind, renewTime: behind,
      leaseTransitions: cur?.leaseTransitions ?? 0, resourceVersion: cur?.resourceVersion,
    })
  }
  await renew()
  let holding = true
  const renewing = (async () => { while (holding) { await renew(); await new Promise((r) => setTimeout(r, 100)) } })()
  const b = new LeaseElector(kube, { namespace: 'argo', name: 'archiver', durationSeconds: 1, retryMs: 100, log: () => {}, onChange: () => {} })
  b.start()
  t.after(() => b.stop())
  // Two Lease durations of attempts while the holder renews: before, its renewTime looked 40 s old and b took it.
  const end = Date.now() + 2000
  while (Date.now() < end) {
    assert.equal(b.leader, false, 'took a Lease its holder was renewing')
    await new Promise((r) => setTimeout(r, 50))
  }
  // The holder dies: about a Lease duration of silence later, b takes over.
  holding = false
  await renewing
  await until('b takes over', () => b.leader, 5_000)
  assert.equal((await kube.getLease('argo', 'archiver'))?.holderIdentity, b.identity)
})
