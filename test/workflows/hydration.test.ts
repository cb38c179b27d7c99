import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
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

test('Get, list and watch put back nodes the controller compressed; events stay in order', async (t) => {
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
