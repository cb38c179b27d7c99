import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack, type Stack } from '../harness/stack.js'
import { openStream, watchEvents, type StreamReader } from '../harness/streams.js'
import { brief, sseWatchFrames, watchFrame } from './sse.js'

// A workflow entering or leaving a client's selection is ADDED or DELETED for that client, as a Kubernetes watch
// with a selector reports it (k8s.io/apiserver cacheWatcher.convertToWatchEvent), live, on resume and after a 410.

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const seed = (s: Stack, name: string, labels: Record<string, string>) =>
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, labels }, spec: { entrypoint: 'm' } })
const byGroup = (g: string) => `/api/v1/workflow-events/argo?listOptions.labelSelector=grp%3D${g}`
const ndjsonFrames = (r: StreamReader) => r.messages().map((m) => watchFrame(JSON.stringify(m)))

test('relabelled across selectors: the old selection gets DELETED (previous object, new version), the new one ADDED; SSE and NDJSON', async (t) => {
  const s = await startStack(t)
  const created = seed(s, 'mover', { grp: 'a' })
  const [sseA, sseB, ndA, ndB] = await Promise.all([
    openStream(s, byGroup('a'), { sse: true }), openStream(s, byGroup('b'), { sse: true }), openStream(s, byGroup('a')), openStream(s, byGroup('b')),
  ])
  t.after(() => [sseA, sseB, ndA, ndB].forEach((r) => r.close()))
  await sseA.until((raw) => sseWatchFrames(raw).length === 1)
  await ndA.until(() => watchEvents(ndA).length === 1)
  const relabelled = s.emulator.patch(WF, 'mover', { metadata: { labels: { grp: 'b' } } })
  const modified = s.emulator.patch(WF, 'mover', { status: { phase: 'Running' } })
  const rv1 = relabelled.metadata.resourceVersion as string
  const rv2 = modified.metadata.resourceVersion as string
  await sseA.until((raw) => sseWatchFrames(raw).length === 2)
  await sseB.until((raw) => sseWatchFrames(raw).length === 2)
  await ndA.until(() => watchEvents(ndA).length === 2)
  await ndB.until(() => watchEvents(ndB).length === 2)
  // A marker in each selection: whatever came before it is all each client gets for "mover".
  const markerA = seed(s, 'marker-a', { grp: 'a' }).metadata.resourceVersion as string
  const markerB = seed(s, 'marker-b', { grp: 'b' }).metadata.resourceVersion as string
  for (const r of [sseA, sseB, ndA, ndB]) await r.until(() => r.messages().length === 3)

  const a = sseWatchFrames(sseA.raw)
  assert.deepEqual(brief(a), [`ADDED mover@${created.metadata.resourceVersion}`, `DELETED mover@${rv1}`, `ADDED marker-a@${markerA}`])
  // The apiserver's watch cache sends the object as the client last matched it, at the change's resourceVersion.
  assert.deepEqual(a[1]?.labels, { grp: 'a' })
  assert.equal(a[1]?.resourceVersion, rv1)
  const b = sseWatchFrames(sseB.raw)
  assert.deepEqual(brief(b), [`ADDED mover@${rv1}`, `MODIFIED mover@${rv2}`, `ADDED marker-b@${markerB}`])
  assert.deepEqual(b[0]?.labels, { grp: 'b' })
  assert.deepEqual(watchEvents(ndA), ['ADDED mover', 'DELETED mover', 'ADDED marker-a'])
  assert.deepEqual(watchEvents(ndB), ['ADDED mover', 'MODIFIED mover', 'ADDED marker-b'])
  assert.deepEqual(ndjsonFrames(ndA)[1]?.labels, { grp: 'a' })
  assert.equal(ndjsonFrames(ndA)[1]?.resourceVersion, rv1)
})

test('a resume (Last-Event-ID, resourceVersion) replaying across a relabel gets the same ADDED/DELETED, masked by fields too', async (t) => {
  const s = await startStack(t)
  seed(s, 'mover', { grp: 'a' })
  const first = await openStream(s, byGroup('a'), { sse: true })
  await first.until((raw) => sseWatchFrames(raw).length === 1)
  const seenId = sseWatchFrames(first.raw)[0]?.id as string
  first.close()
  // While no client is connected: the relabel and a change, then one marker per selection.
  const rv1 = s.emulator.patch(WF, 'mover', { metadata: { labels: { grp: 'b' } } }).metadata.resourceVersion as string
  const rv2 = s.emulator.patch(WF, 'mover', { status: { phase: 'Running' } }).metadata.resourceVersion as string
  const markerA = seed(s, 'marker-a', { grp: 'a' }).metadata.resourceVersion as string
  const markerB = seed(s, 'marker-b', { grp: 'b' }).metadata.resourceVersion as string
  const masked = '&fields=result.type,result.object.metadata.name,result.object.metadata.labels'
  const [resumedA, resumedB, byRvA] = await Promise.all([
    openStream(s, byGroup('a'), { sse: true, headers: { 'last-event-id': seenId } }),
    openStream(s, byGroup('b') + masked, { sse: true, headers: { 'last-event-id': seenId } }),
    openStream(s, `${byGroup('a')}&listOptions.resourceVersion=${seenId}`),
  ])
  t.after(() => [resumedA, resumedB, byRvA].forEach((r) => r.close()))
  for (const r of [resumedA, resumedB, byRvA]) await r.until(() => r.messages().some((m) => JSON.stringify(m).includes('"marker-')))

  assert.deepEqual(brief(sseWatchFrames(resumedA.raw)), [`DELETED mover@${rv1}`, `ADDED marker-a@${markerA}`])
  assert.deepEqual(sseWatchFrames(resumedA.raw)[0]?.labels, { grp: 'a' })
  assert.deepEqual(watchEvents(byRvA), ['DELETED mover', 'ADDED marker-a'])
  // With a fields mask the type kept is the one synthesized for this client, as live.
  assert.deepEqual(sseWatchFrames(resumedB.raw).map((f) => [f.id, f.result]), [
    [rv1, { type: 'ADDED', object: { metadata: { name: 'mover', labels: { grp: 'b' } } } }],
    [rv2, { type: 'MODIFIED', object: { metadata: { name: 'mover', labels: { grp: 'b' } } } }],
    [markerB, { type: 'ADDED', object: { metadata: { name: 'marker-b', labels: { grp: 'b' } } } }],
  ])
})

test('relabelled while the upstream watch was down and compacted (410): the re-list gives DELETED and ADDED too', async (t) => {
  const s = await startStack(t)
  seed(s, 'mover', { grp: 'a' })
  const [a, b] = await Promise.all([openStream(s, byGroup('a'), { sse: true }), openStream(s, byGroup('b'), { sse: true })])
  t.after(() => [a, b].forEach((r) => r.close()))
  await a.until((raw) => sseWatchFrames(raw).length === 1)
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  const rv1 = s.emulator.patch(WF, 'mover', { metadata: { labels: { grp: 'b' } } }).metadata.resourceVersion as string
  s.emulator.compact()
  unblock()
  await a.until((raw) => sseWatchFrames(raw).length === 2)
  await b.until((raw) => sseWatchFrames(raw).length === 1)
  const markerA = seed(s, 'marker-a', { grp: 'a' }).metadata.resourceVersion as string
  await a.until((raw) => sseWatchFrames(raw).length === 3)
  assert.deepEqual(brief(sseWatchFrames(a.raw)).slice(1), [`DELETED mover@${rv1}`, `ADDED marker-a@${markerA}`])
  assert.deepEqual(sseWatchFrames(a.raw)[1]?.labels, { grp: 'a' })
  assert.deepEqual(brief(sseWatchFrames(b.raw)), [`ADDED mover@${rv1}`])
})

test('events: an Event that stops matching a field selector is sent once more to that client (the previous object)', async (t) => {
  const s = await startStack(t)
  const EV = { group: '', resource: 'events', namespace: 'argo' }
  s.emulator.create(EV, {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'Workflow', name: 'wf', namespace: 'argo' }, reason: 'R', message: 'm', type: 'Normal',
  })
  const path = (type: string) => `/api/v1/stream/events/argo?listOptions.fieldSelector=type%3D${type}`
  const [normal, warning] = await Promise.all([openStream(s, path('Normal')), openStream(s, path('Warning'))])
  t.after(() => [normal, warning].forEach((r) => r.close()))
  await normal.until(() => normal.messages().length === 1)
  const rv = s.emulator.patch(EV, 'e1', { type: 'Warning' }).metadata.resourceVersion
  await warning.until(() => warning.messages().length === 1)
  await normal.until(() => normal.messages().length === 2)
  // WatchEvents sends each watch event's object without its type (spec §2.9): the DELETED one is the old object.
  const last = normal.messages()[1]?.result as { type: string; metadata: { resourceVersion: string } }
  assert.equal(last.type, 'Normal')
  assert.equal(last.metadata.resourceVersion, rv)
  assert.equal((warning.messages()[0]?.result as { type: string }).type, 'Warning')
})
