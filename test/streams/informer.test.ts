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

/** An emulator, a KubeClient on it, and an informer of argo's workflows recording what it is told and logs. */
async function informerOn(t: import('node:test').TestContext, emulatorOpts: Parameters<typeof startEmulator>[0], opts: ConstructorParameters<typeof Informer>[2]) {
  const emulator = await startEmulator(emulatorOpts)
  const dir = await mkdtemp(join(tmpdir(), 'informer-'))
  t.after(async () => { await emulator.close(); await rm(dir, { recursive: true, force: true }) })
  const kube = new KubeClient(loadKubeConfig({ kind: 'file', path: await emulator.writeKubeconfig(join(dir, 'kubeconfig')) }))
  const seen: string[] = []
  const logs: string[] = []
  const handler: InformerHandler = {
    beginSync: () => {},
    syncPage: (objects: KubeObject[]) => { for (const o of objects) seen.push(`list ${o.metadata.name}`) },
    endSync: () => {},
    onEvent: (type, obj) => void seen.push(`${type} ${obj.metadata.name}`),
  }
  const informer = new Informer(kube.listSource(Workflows, 'argo'), handler, { ...opts, log: (m) => void logs.push(m) })
  t.after(() => informer.stop())
  return { emulator, informer, seen, logs }
}

/** Until the emulator has a watch open. */
async function watching(emulator: { openWatches(): number }): Promise<void> {
  while (emulator.openWatches() === 0) await new Promise((r) => setTimeout(r, 10))
}

/** The waits the informer logged before each retry, in ms. */
const retryWaits = (logs: string[]) => logs.flatMap((l) => /retrying in (\d+) ms/.exec(l)?.[1] ?? [])

test('a watch still open well past the timeoutSeconds it asked for is closed and resumed: nothing missed', async (t) => {
  const health: string[] = []
  const { emulator, informer, seen } = await informerOn(t, { namespaces: ['argo'], tls: true },
    { watchTimeoutSeconds: 1, stallMs: 200, onHealth: (e) => void health.push(e ? e.message : 'ok') })
  emulator.create(WF, create('a'))
  // The first watch is answered and then says nothing, ever, while the apiserver itself keeps answering.
  emulator.fault({ path: /workflows$/, watch: true, hang: true })
  informer.start()
  await informer.synced
  emulator.create(WF, create('b'))
  const until = Date.now() + 10_000
  while (!seen.includes('ADDED b') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen, ['list a', 'ADDED b'])
  assert.equal(emulator.requestCount({ path: /workflows$/, watch: true }), 2, 'one stuck watch, then one that works')
  assert.deepEqual(health, [], 'the apiserver answered the probes: no outage was reported')
})

test('a watch that says nothing while the API moves on is re-opened long before its timeoutSeconds: nothing missed, and logged', async (t) => {
  const { emulator, informer, seen, logs } = await informerOn(t, { namespaces: ['argo'], tls: true }, { stallMs: 200, stuckMs: 1_000 })
  emulator.create(WF, create('a'))
  // A connection dropped without a word (NAT, load balancer): answered, then silent for good; other requests work.
  emulator.fault({ path: /workflows$/, watch: true, hang: true })
  informer.start()
  await informer.synced
  emulator.create(WF, create('b'))
  const until = Date.now() + 10_000 // the watch asked for timeoutSeconds=300: before, 'b' came after 5 minutes
  while (!seen.includes('ADDED b') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen, ['list a', 'ADDED b'])
  assert.equal(emulator.requestCount({ path: /workflows$/, watch: true }), 2, 'the stuck watch, then one from the same version')
  assert.equal(logs.filter((m) => /watch of .*workflows.* had said nothing for \d+ s while changes were made: it was stuck/.test(m)).length, 1, logs.join('\n'))
})

test('a quiet watch on a cluster where nothing changes is left open: silence alone is not a stuck watch', async (t) => {
  // Bookmarks every 60 s, as an apiserver's watch cache sends them: the watch says nothing during the test.
  const { emulator, informer, seen, logs } = await informerOn(t, { namespaces: ['argo'], tls: true, bookmarkIntervalMs: 60_000 }, { stallMs: 100, stuckMs: 300 })
  emulator.create(WF, create('a'))
  informer.start()
  await informer.synced
  await new Promise((r) => setTimeout(r, 1_500))
  assert.deepEqual(seen, ['list a'])
  assert.equal(emulator.requestCount({ path: /workflows$/, watch: true }), 1, 'one watch, never re-opened')
  assert.ok(emulator.requestCount({ path: /workflows$/, watch: false }) >= 3, 'the silent watch was probed meanwhile')
  assert.deepEqual(logs, [])
})

test('a watch refused with HTTP 410 (not an ERROR event in the stream) re-lists, rather than asking again for the expired version', async (t) => {
  const { emulator, informer, seen } = await informerOn(t, { namespaces: ['argo'], tls: true }, { stallMs: 200 })
  emulator.create(WF, create('a'))
  informer.start()
  await informer.synced
  await watching(emulator)
  const expired = informer.resourceVersion
  // From now on the API refuses that version outright, as one without a watch cache (or a proxy) answers 410.
  emulator.fault({ path: /workflows$/, watch: true, status: 410, query: new RegExp(`resourceVersion=${expired}(&|$)`), times: Infinity })
  emulator.dropWatches()
  emulator.create(WF, create('b'))
  const until = Date.now() + 10_000
  while (!seen.includes('list b') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen, ['list a', 'list a', 'list b'], 'one re-list, with what changed meanwhile')
  emulator.create(WF, create('c'))
  while (!seen.includes('ADDED c') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(seen.slice(3), ['ADDED c'], 'then watched from the new list')
  assert.equal(emulator.requestCount({ path: /workflows$/, watch: true }), 3, 'the first watch, the refused one, the one after the re-list')
})

test('a watch that worked and then lost its connection is re-opened at once each time; only failing attempts back off', async (t) => {
  const { emulator, informer, seen, logs } = await informerOn(t, { namespaces: ['argo'], tls: true }, { stallMs: 5_000 })
  informer.start()
  await informer.synced
  // Connections cut every ~0.4 s (a flaky load balancer), each after the watch delivered a change.
  for (let i = 0; i < 5; i++) {
    await watching(emulator)
    emulator.create(WF, create(`w${i}`))
    while (!seen.includes(`ADDED w${i}`)) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 400))
    emulator.dropWatches()
  }
  await watching(emulator)
  // Before, each cut doubled the wait (200, 400, 800, 1600, 3200 ms, then 10 s), as if the API were failing.
  assert.deepEqual(retryWaits(logs), ['200', '200', '200', '200', '200'])
  // Refused attempts still back off: a cut after the watch worked, then refusals.
  await new Promise((r) => setTimeout(r, 500))
  const refuse = emulator.fault({ path: /workflows$/, watch: true, status: 500, times: Infinity })
  emulator.dropWatches()
  while (retryWaits(logs).length < 8) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(retryWaits(logs).slice(5), ['200', '400', '800'])
  refuse()
})

test('a watch that worked and then answered 410, followed by re-lists that fail, backs off: the old watch does not reset the wait', async (t) => {
  const { emulator, informer, logs } = await informerOn(t, { namespaces: ['argo'], tls: true }, { stallMs: 5_000 })
  emulator.create(WF, create('a'))
  informer.start()
  await informer.synced
  await watching(emulator)
  await new Promise((r) => setTimeout(r, 400))
  // Every list fails, after 300 ms (a loaded apiserver): the time since the old watch opened grows past each wait.
  emulator.fault({ path: /workflows$/, watch: false, status: 500, delayMs: 300, times: Infinity })
  emulator.create(WF, create('b'))
  emulator.compact()
  emulator.dropWatches()
  while (retryWaits(logs).length < 5) await new Promise((r) => setTimeout(r, 20))
  // The cut of a watch that worked, then the 410 and failing lists: 200, 400, 800, … (before: 200 again and again).
  assert.deepEqual(retryWaits(logs).slice(0, 5), ['200', '200', '400', '800', '1600'])
})
