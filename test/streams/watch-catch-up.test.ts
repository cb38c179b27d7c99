import assert from 'node:assert/strict'
import { test } from 'node:test'
import { onReplica, startStack, type Stack } from '../harness/stack.js'
import { openStream } from '../harness/streams.js'
import { brief, sseWatchFrames } from './sse.js'

// A client may resume from a position this server's watch has not reached yet: an id another replica sent (their
// watches run apart), or a resourceVersion a Kubernetes list gave. It is resumed exactly once this server catches
// up, as the apiserver's watch cache waits for a version it has not reached; only after that wait, a snapshot.

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const ARGO = '/api/v1/workflow-events/argo'
const seed = (s: Stack, name: string) =>
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' }, status: { phase: 'Running' } })
const rvOf = (o: { metadata: { resourceVersion?: string } }) => o.metadata.resourceVersion as string

async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 10))
}

test('a client moving to a replica whose watch is behind resumes exactly once it catches up: no snapshot again, nothing twice', async (t) => {
  const s = await startStack(t)
  seed(s, 'one')
  seed(s, 'two')
  await until(() => s.emulator.openWatches(/workflows/) === 1)
  // The second replica's watch runs 1.5 s behind the apiserver (a lagging watch cache, a slow link); the first's not.
  s.emulator.fault({ method: 'GET', watch: true, path: /workflows$/, lagMs: 1500, times: Infinity })
  const b = onReplica(s, await s.startReplica())
  await until(() => s.emulator.openWatches(/workflows/) === 2)

  const onA = await openStream(s, ARGO, { sse: true })
  await onA.until((raw) => sseWatchFrames(raw).length === 2)
  const changed = s.emulator.patch(WF, 'one', { status: { phase: 'Succeeded' } })
  await onA.until((raw) => sseWatchFrames(raw).length === 3)
  const last = sseWatchFrames(onA.raw)[2]
  assert.equal(last?.id, rvOf(changed))
  onA.close()

  // At once on the replica, whose watch has not brought that change yet.
  const onB = await openStream(b, ARGO, { sse: true, headers: { 'last-event-id': last?.id as string } })
  t.after(() => onB.close())
  assert.equal(onB.status, 200)
  const next = s.emulator.patch(WF, 'two', { status: { phase: 'Failed' } })
  await onB.until((raw) => raw.includes('"Failed"'))
  // Before, the replica sent its snapshot (one still Running, two) and then the change the client had: three
  // events it had, one of them twice.
  assert.deepEqual(brief(sseWatchFrames(onB.raw)), [`MODIFIED two@${rvOf(next)}`])
})

test('a resourceVersion ahead of every workflow change (a Kubernetes list\'s) resumes exactly once a bookmark confirms it', async (t) => {
  const s = await startStack(t)
  seed(s, 'one')
  assert.equal((await s.json('/api/v1/workflows/argo')).status, 200)
  // Something else changes in the cluster: its version is the one `kubectl get workflows -o json` answers now.
  const cm = s.emulator.create({ group: '', resource: 'configmaps', namespace: 'argo' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere' } })
  const listed = rvOf(cm)
  const nd = await openStream(s, `${ARGO}?listOptions.resourceVersion=${listed}`)
  t.after(() => nd.close())
  const changed = s.emulator.patch(WF, 'one', { status: { phase: 'Succeeded' } })
  await nd.until((raw) => raw.includes('"Succeeded"'))
  // Before, that version was ahead of the last workflow event the server had, and the client got a snapshot first.
  const events = nd.messages().map((m) => {
    const r = m.result as { type: string; object: { metadata: { name: string; resourceVersion: string } } }
    return `${r.type} ${r.object.metadata.name}@${r.object.metadata.resourceVersion}`
  })
  assert.deepEqual(events, [`MODIFIED one@${rvOf(changed)}`])
})

test('a position this server does not reach is waited for a bounded time, then answered with a snapshot, not an error', async (t) => {
  const s = await startStack(t)
  seed(s, 'one')
  const sse = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': '999999999' } })
  t.after(() => sse.close())
  assert.equal(sse.status, 200)
  await sse.until((raw) => sseWatchFrames(raw).length === 1)
  assert.deepEqual(sseWatchFrames(sse.raw).map((f) => `${f.type} ${f.name}`), ['ADDED one'])
})

test('the Events stream too: a resourceVersion ahead of the last Event resumes once a bookmark confirms it, not the snapshot again', async (t) => {
  const s = await startStack(t)
  const EV = { group: '', resource: 'events', namespace: 'argo' }
  const event = (name: string, reason: string) => s.emulator.create(EV, {
    apiVersion: 'v1', kind: 'Event', metadata: { name }, reason, type: 'Normal',
    involvedObject: { kind: 'Workflow', name: 'wf', namespace: 'argo', apiVersion: 'argoproj.io/v1alpha1' },
  })
  event('e1', 'WorkflowRunning')
  const first = await openStream(s, '/api/v1/stream/events/argo') // opens the namespace's shared watch
  t.after(() => first.close())
  await first.until(() => first.messages().length === 1)
  const listed = rvOf(s.emulator.create({ group: '', resource: 'configmaps', namespace: 'argo' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere' } }))
  const resumed = await openStream(s, `/api/v1/stream/events/argo?listOptions.resourceVersion=${listed}`)
  t.after(() => resumed.close())
  event('e2', 'WorkflowSucceeded')
  await resumed.until(() => resumed.messages().some((m) => m.result?.reason === 'WorkflowSucceeded'))
  // Before, e1 came again first.
  assert.deepEqual(resumed.messages().map((m) => m.result?.reason), ['WorkflowSucceeded'])
})
