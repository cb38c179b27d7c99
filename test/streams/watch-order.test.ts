import assert from 'node:assert/strict'
import { test } from 'node:test'
import { aWorkflow, startStack } from '../harness/stack.js'
import { openStream } from '../harness/streams.js'
import { brief, sseWatchFrames } from './sse.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }

test('a workflow created through this server goes out in the watch\'s order, its id its resourceVersion, though lists have it at once', async (t) => {
  // The server's watch runs 300 ms behind the apiserver (a slow link or a lagging watch cache).
  const s = await startStack(t, { before: (e) => void e.fault({ method: 'GET', watch: true, path: /workflows$/, lagMs: 300, times: Infinity }) })
  const sse = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  const nd = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => [sse, nd].forEach((r) => r.close()))
  // Written by someone else (the controller) just before this server creates x: y is older, still on its way.
  const y = s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'y' }, spec: { entrypoint: 'm' } })
  const created = await s.json<{ metadata: { resourceVersion: string } }>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'x' }) } })
  assert.equal(created.status, 200)
  // Read-your-writes: the list has x before the watch brings it.
  const list = await s.json<{ items: { metadata: { name: string } }[] | null }>('/api/v1/workflows/argo')
  assert.ok(list.body.items?.some((w) => w.metadata.name === 'x'), JSON.stringify(list.body.items?.map((w) => w.metadata.name)))
  await sse.until(() => sseWatchFrames(sse.raw).length === 2)
  const [ry, rx] = [y.metadata.resourceVersion, created.body.metadata.resourceVersion]
  assert.ok(Number(ry) < Number(rx))
  // Before, x went out at once, ahead of y, and y got an id that was no resourceVersion (a resume from x's id on
  // another replica then missed y).
  assert.deepEqual(brief(sseWatchFrames(sse.raw)), [`ADDED y@${ry}`, `ADDED x@${rx}`])
  await nd.until((raw) => raw.split('\n').filter(Boolean).length === 2)
  const rvs = nd.raw.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { result: { object: { metadata: { resourceVersion: string } } } }).result.object.metadata.resourceVersion)
  assert.deepEqual(rvs, [ry, rx])
  // A client resuming from y's version gets x, once.
  const resumed = await openStream(s, '/api/v1/workflow-events/argo', { sse: true, headers: { 'last-event-id': ry as string } })
  t.after(() => resumed.close())
  await resumed.until(() => sseWatchFrames(resumed.raw).length === 1)
  assert.deepEqual(brief(sseWatchFrames(resumed.raw)), [`ADDED x@${rx}`])
})

test('a watch opened after this server created a workflow, before the watch brought it, is told of it once', async (t) => {
  const s = await startStack(t, { before: (e) => void e.fault({ method: 'GET', watch: true, path: /workflows$/, lagMs: 300, times: Infinity }) })
  assert.equal((await s.json('/api/v1/workflows/argo')).status, 200) // the server has its first list
  const created = await s.json<{ metadata: { resourceVersion: string } }>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'x' }) } })
  assert.equal(created.status, 200)
  // Opened while x is in lists already but still on its way through the watch: x comes as a live event, not
  // in the snapshot and then again live.
  const sse = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  t.after(() => sse.close())
  await sse.until(() => sseWatchFrames(sse.raw).length >= 1)
  const marker = s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'marker' }, spec: { entrypoint: 'm' } })
  await sse.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(brief(sseWatchFrames(sse.raw)), [`ADDED x@${created.body.metadata.resourceVersion}`, `ADDED marker@${marker.metadata.resourceVersion}`])
})

test('a snapshot comes in resourceVersion order: an NDJSON client resuming from its last object\'s version resumes exactly, workflows and Events', async (t) => {
  const s = await startStack(t)
  const wf = (name: string) => s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' } })
  const ev = (name: string) => s.emulator.create({ group: '', resource: 'events', namespace: 'argo' }, {
    apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Workflow', name: 'w', namespace: 'argo' }, reason: 'r', message: name,
  })
  // Created in the reverse of name order, and the first changed last.
  for (const name of ['c', 'b', 'a']) wf(name)
  s.emulator.patch(WF, 'c', { metadata: { labels: { changed: 'yes' } } })
  for (const name of ['e3', 'e2', 'e1']) ev(name)
  for (const [path, count] of [['/api/v1/workflow-events/argo', 3], ['/api/v1/stream/events/argo', 3]] as const) {
    const first = await openStream(s, path)
    await first.until(() => first.messages().length === count)
    first.close()
    type Obj = { metadata: { name: string; resourceVersion: string } }
    const objects = first.messages().map((m) => ((m.result as { object?: Obj }).object ?? m.result) as Obj)
    const versions = objects.map((o) => Number(o.metadata.resourceVersion))
    // Before, in name order: the last object was not the newest, and a resume from it got the newer ones again.
    assert.deepEqual(versions, [...versions].sort((x, y) => x - y), `${path}: ${objects.map((o) => o.metadata.name).join()}`)
    const last = objects.at(-1)?.metadata.resourceVersion as string
    const resumed = await openStream(s, `${path}?listOptions.resourceVersion=${last}`)
    t.after(() => resumed.close())
    const marker = path.includes('workflow-events') ? wf(`marker${count}`) : ev('marker')
    await resumed.until(() => resumed.messages().length >= 1)
    await new Promise((r) => setTimeout(r, 200))
    const names = resumed.messages().map((m) => (((m.result as { object?: Obj }).object ?? m.result) as Obj).metadata.name)
    assert.deepEqual(names, [marker.metadata.name], path)
  }
})
