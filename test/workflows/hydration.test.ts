import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { podName } from '../../src/lib/node-names.js'
import { sqlQuery } from '../harness/postgres.js'
import { startStack, type Stack } from '../harness/stack.js'
import { openStream } from '../harness/streams.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
type Wf = { metadata: { name: string; uid: string }; status: Record<string, unknown> }

const nodesOf = (name: string, phase = 'Running') => ({ [name]: { id: name, name, displayName: name, type: 'Pod', phase, templateName: 'main' } })
const gz = (v: unknown) => gzipSync(JSON.stringify(v)).toString('base64')

function running(s: Stack, name: string, status: Record<string, unknown>) {
  return s.emulator.create(WF, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
    status: { phase: 'Running', startedAt: '2026-03-01T00:00:00Z', ...status },
  })
}

const objects = (r: { messages(): { result?: Record<string, unknown> }[] }) =>
  r.messages().map((m) => m.result as { type: string; object: Wf })

test('Get, list, watch and wait put back nodes the controller compressed; events stay in order', async (t) => {
  const s = await startStack(t)
  running(s, 'big', { compressedNodes: gz(nodesOf('big')) })
  const got = await s.json<Wf>('/api/v1/workflows/argo/big')
  assert.equal(got.status, 200)
  assert.deepEqual(got.body.status.nodes, nodesOf('big'))
  assert.equal(got.body.status.compressedNodes, undefined)
  // With fields, as the UI asks: the nodes are there to keep.
  const masked = await s.json<Wf>('/api/v1/workflows/argo/big?fields=status.nodes')
  assert.deepEqual(masked.body.status, { nodes: nodesOf('big') })
  // Lists too, unless the mask drops the nodes (then nothing is decompressed, as upstream).
  type List = { items: Wf[] }
  const list = await s.json<List>('/api/v1/workflows/argo')
  assert.deepEqual(list.body.items[0]?.status.nodes, nodesOf('big'))
  assert.equal(list.body.items[0]?.status.compressedNodes, undefined)
  const listed = await s.json<List>('/api/v1/workflows/argo?fields=items.metadata.name,items.status.nodes')
  assert.deepEqual(listed.body.items[0]?.status, { nodes: nodesOf('big') })
  const without = await s.json<List>('/api/v1/workflows/argo?fields=-items.status.nodes')
  assert.equal(without.body.items[0]?.status.nodes, undefined)
  assert.equal(typeof without.body.items[0]?.status.compressedNodes, 'string')

  const r = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  t.after(() => r.close())
  await r.until(() => objects(r).length === 1)
  assert.deepEqual(objects(r)[0]?.object.status.nodes, nodesOf('big'))
  // A compressed update, then a plain workflow, then the compressed one again: sent hydrated, in this order.
  s.emulator.patch(WF, 'big', { status: { compressedNodes: gz(nodesOf('big', 'Succeeded')) } })
  running(s, 'small', { nodes: nodesOf('small') })
  s.emulator.patch(WF, 'big', { status: { phase: 'Succeeded', compressedNodes: gz(nodesOf('big', 'Succeeded')) } })
  await r.until(() => objects(r).length === 4)
  assert.deepEqual(objects(r).map((e) => `${e.type} ${e.object.metadata.name} ${JSON.stringify(Object.values(e.object.status.nodes as object).map((n: { phase: string }) => n.phase))}`), [
    'ADDED big ["Running"]', 'MODIFIED big ["Succeeded"]', 'ADDED small ["Running"]', 'MODIFIED big ["Succeeded"]',
  ])
  assert.ok(!r.raw.includes('compressedNodes'))
  // A waiting client gets the final state with its nodes too.
  running(s, 'waited', { compressedNodes: gz(nodesOf('waited')) })
  const waiting = s.json<Wf>('/api/v1/workflows/argo/waited/wait?timeoutSeconds=20')
  await new Promise((r) => setTimeout(r, 200))
  s.emulator.patch(WF, 'waited', { status: { phase: 'Succeeded', finishedAt: '2026-03-01T00:01:00Z', compressedNodes: gz(nodesOf('waited', 'Succeeded')) } })
  const waited = await waiting
  assert.equal(waited.status, 200)
  assert.deepEqual([waited.body.status.phase, waited.body.status.nodes, waited.body.status.compressedNodes], ['Succeeded', nodesOf('waited', 'Succeeded'), undefined])
  // ids stay in order too: a client resuming after the second event gets the last two
  const ids = [...r.raw.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b))
})

test('Get, list and watch put back nodes the controller offloaded to the database', async (t) => {
  const s = await startStack(t, { database: true })
  const wf = running(s, 'off', {})
  const uid = wf.metadata.uid as string
  await sqlQuery(s.databaseUrl as string, 'INSERT INTO argo_workflows (uid, namespace, clustername, version, nodes) VALUES ($1, $2, $3, $4, $5)',
    [uid, 'argo', 'default', 'fnv:7', JSON.stringify(nodesOf('off'))])
  s.emulator.patch(WF, 'off', { status: { offloadNodeStatusVersion: 'fnv:7' } })
  const got = await s.json<Wf>('/api/v1/workflows/argo/off')
  assert.deepEqual(got.body.status.nodes, nodesOf('off'))
  assert.equal(got.body.status.offloadNodeStatusVersion, undefined)
  // The list with an archive (live and archived as one sequence) too.
  const list = await s.json<{ items: Wf[] }>('/api/v1/workflows/argo')
  assert.deepEqual(list.body.items.map((w) => w.status.nodes), [nodesOf('off')])
  const r = await openStream(s, '/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3Doff')
  t.after(() => r.close())
  await r.until(() => objects(r).length === 1)
  assert.deepEqual(objects(r)[0]?.object.status.nodes, nodesOf('off'))
  // A version no longer in the table: the workflow goes out as Kubernetes holds it, naming the version.
  s.emulator.patch(WF, 'off', { status: { offloadNodeStatusVersion: 'fnv:8' } })
  await r.until(() => objects(r).length === 2)
  assert.equal(objects(r)[1]?.object.status.offloadNodeStatusVersion, 'fnv:8')
  assert.equal((await s.json<Wf>('/api/v1/workflows/argo/off')).body.status.offloadNodeStatusVersion, 'fnv:8')
})

test('a snapshot\'s offloaded workflow is put back for each client: one whose nodes were missing is not passed on to the next', async (t) => {
  // Unfinished workflows not held for the archive: the holds' writes would reorder the second snapshot.
  const s = await startStack(t, { database: true, args: ['--archive-hold-unfinished=false'] })
  const wf = running(s, 'late-row', { offloadNodeStatusVersion: 'fnv:3' })
  running(s, 'after', {}) // so the offloaded one is not the snapshot's last event (which is never shared)
  const first = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => first.close())
  await first.until(() => objects(first).length === 2)
  assert.equal(objects(first)[0]?.object.status.nodes, undefined)
  // The row arrives (the controller's offload write was late); the next client, at once, gets the nodes.
  await sqlQuery(s.databaseUrl as string, 'INSERT INTO argo_workflows (uid, namespace, clustername, version, nodes) VALUES ($1, $2, $3, $4, $5)',
    [wf.metadata.uid, 'argo', 'default', 'fnv:3', JSON.stringify(nodesOf('late-row'))])
  const next = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => next.close())
  await next.until(() => objects(next).length === 2)
  assert.deepEqual(objects(next)[0]?.object.status.nodes, nodesOf('late-row'))
})

/** A tree as the controller records it: root `name` (Steps) with children; `extra` nodes by id. */
function tree(name: string, phase: string, children: Record<string, Record<string, unknown>>) {
  return {
    [name]: { id: name, name, displayName: name, type: 'Steps', phase, templateName: 'main', children: Object.keys(children) },
    ...Object.fromEntries(Object.entries(children).map(([id, n]) => [id, { id, name: `${name}[0].${id}`, displayName: id, templateName: id, ...n }])),
  }
}
async function archived(s: Stack, name: string): Promise<void> {
  for (const end = Date.now() + 10_000; s.emulator.get(WF, name)?.metadata.labels?.['workflows.argoproj.io/workflow-archiving-status'] !== 'Archived';) {
    assert.ok(Date.now() < end, `${name} never archived`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
const gunzipNodes = async (s: Stack, name: string) => {
  const stored = s.emulator.get(WF, name)?.status as Record<string, unknown>
  return { stored, nodes: JSON.parse(gunzipSync(Buffer.from(String(stored.compressedNodes), 'base64')).toString()) as Record<string, { phase: string }> }
}

test('actions change compressed nodes where the controller keeps them; offloaded ones are refused, nothing changed', async (t) => {
  const s = await startStack(t, { database: true })
  const act = (name: string, action: string, body: Record<string, unknown>) =>
    s.json<{ code?: number; message?: string }>(`/api/v1/workflows/argo/${name}/${action}`, { method: 'PUT', json: body })

  // Resume one suspend node: the stored object keeps its nodes compressed, with that node Succeeded.
  running(s, 'gated', { compressedNodes: gz(tree('gated', 'Running', { gate: { type: 'Suspend', phase: 'Running' }, other: { type: 'Suspend', phase: 'Running' } })) })
  const resumed = await act('gated', 'resume', { nodeFieldSelector: 'templateName=gate' })
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body))
  const after = await gunzipNodes(s, 'gated')
  assert.equal(after.stored.nodes, undefined)
  assert.deepEqual([after.nodes.gate?.phase, after.nodes.other?.phase, after.nodes.gated?.phase], ['Succeeded', 'Running', 'Running'])

  // Retry a failed workflow: the failed pod node is removed, and the nodes go back compressed.
  running(s, 'failed', { compressedNodes: gz(tree('failed', 'Failed', { ok: { type: 'Pod', phase: 'Succeeded' }, bad: { type: 'Pod', phase: 'Failed' } })) })
  s.emulator.patch(WF, 'failed', { status: { phase: 'Failed', finishedAt: '2026-03-01T00:01:00Z' } })
  await archived(s, 'failed') // the archiver's labels change it meanwhile (a retry then would be a 409, rightly)
  const retried = await act('failed', 'retry', {})
  assert.equal(retried.status, 200, JSON.stringify(retried.body))
  const again = await gunzipNodes(s, 'failed')
  assert.equal(again.stored.nodes, undefined)
  assert.equal(again.stored.phase, 'Running')
  assert.deepEqual(Object.keys(again.nodes).sort(), ['failed', 'ok'])

  // Offloaded: the server does not write the controller's offload table, so it refuses before changing anything.
  const wf = running(s, 'offloaded', {})
  await sqlQuery(s.databaseUrl as string, 'INSERT INTO argo_workflows (uid, namespace, clustername, version, nodes) VALUES ($1, $2, $3, $4, $5)',
    [wf.metadata.uid, 'argo', 'default', 'fnv:1', JSON.stringify(tree('offloaded', 'Failed', { bad: { type: 'Pod', phase: 'Failed' }, gate: { type: 'Suspend', phase: 'Running' } }))])
  s.emulator.patch(WF, 'offloaded', { status: { offloadNodeStatusVersion: 'fnv:1' } })
  const stored = () => JSON.stringify(s.emulator.get(WF, 'offloaded'))
  let before = stored()
  const refused = await act('offloaded', 'resume', { nodeFieldSelector: 'templateName=gate' })
  assert.deepEqual([refused.status, refused.body.code], [400, 9])
  assert.match(refused.body.message ?? '', /offloaded/)
  assert.equal(stored(), before)
  s.emulator.patch(WF, 'offloaded', { status: { phase: 'Failed', finishedAt: '2026-03-01T00:01:00Z' } })
  await archived(s, 'offloaded')
  const PODS = { group: '', resource: 'pods', namespace: 'argo' }
  // The failed node's pod, named as the controller names it: a retry deletes it first.
  const badPod = podName('offloaded', 'offloaded[0].bad', 'bad')
  s.emulator.create(PODS, { metadata: { name: badPod }, spec: { containers: [{ name: 'main' }] } })
  before = stored()
  const noRetry = await act('offloaded', 'retry', {})
  assert.deepEqual([noRetry.status, noRetry.body.code], [400, 9])
  assert.equal(stored(), before)
  assert.ok(s.emulator.get(PODS, badPod), 'no pod was deleted')
  // Actions that leave the nodes alone are not affected.
  assert.equal((await act('offloaded', 'suspend', {})).status, 200)
})

test('a replay of MODIFIED then DELETED of one compressed workflow sends both, each with its own type and id', async (t) => {
  const s = await startStack(t)
  running(s, 'doomed', { compressedNodes: gz(nodesOf('doomed')) })
  const r = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  t.after(() => r.close())
  await r.until(() => objects(r).length === 1)
  const start = [...r.raw.matchAll(/^id: (\d+)$/gm)].pop()?.[1] as string
  s.emulator.patch(WF, 'doomed', { status: { compressedNodes: gz(nodesOf('doomed', 'Succeeded')) } })
  await r.until(() => objects(r).length === 2)
  // Deleted while the server's watch is down and the history compacted: the re-list publishes DELETED with the
  // entry the MODIFIED event carried.
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  s.emulator.remove(WF, 'doomed')
  s.emulator.compact()
  unblock()
  await r.until(() => objects(r).length === 3)
  assert.deepEqual(objects(r).map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED'])
  // Resuming from before both replays them in one go: both arrive, in order, each with its own id.
  const again = await openStream(s, '/api/v1/workflow-events/argo', { sse: true, headers: { 'last-event-id': start } })
  t.after(() => again.close())
  await again.until(() => objects(again).length === 2)
  assert.deepEqual(objects(again).map((e) => e.type), ['MODIFIED', 'DELETED'])
  // A deletion the re-list found has no version of its own: its id is `<rv>.<n>` (hub-event.ts).
  const ids = [...again.raw.matchAll(/^id: (\d+(?:\.\d+)?)$/gm)].map((m) => m[1])
  assert.equal(new Set(ids).size, 2, again.raw.slice(0, 300))
})

test('a node change to a compressed workflow is written over the version read: on a conflict it is done again on the newest, no update lost', async (t) => {
  const s = await startStack(t)
  running(s, 'racy', { compressedNodes: gz(tree('racy', 'Running', { gate: { type: 'Suspend', phase: 'Running' }, work: { type: 'Pod', phase: 'Running' } })) })
  // The controller updates another node between the server's read and its write: the write is held until then.
  const read = s.emulator.get(WF, 'racy')
  s.emulator.fault({ method: 'PATCH', path: /workflows\/racy$/, delayMs: 500 })
  const resuming = s.json<{ code?: number }>('/api/v1/workflows/argo/racy/resume', { method: 'PUT', json: { nodeFieldSelector: 'templateName=gate' } })
  for (const end = Date.now() + 10_000; s.emulator.requestCount({ method: 'PATCH', path: /workflows\/racy$/ }) === 0;) {
    assert.ok(Date.now() < end, 'the server never wrote')
    await new Promise((r) => setTimeout(r, 5))
  }
  s.emulator.patch(WF, 'racy', { status: { compressedNodes: gz(tree('racy', 'Running', { gate: { type: 'Suspend', phase: 'Running' }, work: { type: 'Pod', phase: 'Succeeded' } })) } })
  const res = await resuming
  // The write over the version read was refused (409); resumed again from a fresh read, as upstream's
  // retry.RetryOnConflict does.
  assert.equal(res.status, 200, JSON.stringify(res.body))
  assert.equal(s.emulator.requestCount({ method: 'PATCH', path: /workflows\/racy$/ }), 2)
  const { nodes } = await gunzipNodes(s, 'racy')
  assert.equal(nodes.work?.phase, 'Succeeded', "the controller's change is kept")
  assert.equal(nodes.gate?.phase, 'Succeeded', 'the resume is applied')
  assert.notEqual(read?.metadata.resourceVersion, s.emulator.get(WF, 'racy')?.metadata.resourceVersion)
})
