import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack, type Stack } from '../harness/stack.js'
import { openStream } from '../harness/streams.js'

const EV = { group: '', resource: 'events', namespace: 'argo' }
const event = (s: Stack, name: string, wf: string, reason: string) => s.emulator.create(EV, {
  apiVersion: 'v1', kind: 'Event', metadata: { name },
  involvedObject: { kind: 'Workflow', name: wf, namespace: 'argo', apiVersion: 'argoproj.io/v1alpha1' },
  reason, message: `${reason} ${wf}`, type: 'Normal', source: { component: 'workflow-controller' },
})
const reasons = (m: { result?: Record<string, unknown> }[]) => m.map((x) => `${String(x.result?.reason)} ${String((x.result?.involvedObject as { name?: string } | undefined)?.name)}`)

test('GET /api/v1/stream/events/{ns} streams core/v1 Events filtered by field selector, over one shared watch', async (t) => {
  const s = await startStack(t)
  event(s, 'e1', 'wf-a', 'WorkflowRunning')
  event(s, 'e2', 'wf-b', 'WorkflowRunning')
  const forA = await openStream(s, '/api/v1/stream/events/argo?listOptions.fieldSelector=involvedObject.kind%3DWorkflow,involvedObject.name%3Dwf-a')
  const all = await openStream(s, '/api/v1/stream/events/argo', { sse: true })
  const again = await openStream(s, '/api/v1/stream/events/argo')
  t.after(() => [forA, all, again].forEach((r) => r.close()))
  await forA.until(() => forA.messages().length === 1)
  event(s, 'e3', 'wf-a', 'WorkflowSucceeded')
  event(s, 'e4', 'wf-b', 'WorkflowFailed')
  await forA.until(() => forA.messages().length === 2)
  await all.until(() => all.messages().length === 4)
  assert.deepEqual(reasons(forA.messages()), ['WorkflowRunning wf-a', 'WorkflowSucceeded wf-a'])
  assert.deepEqual(reasons(all.messages()).sort(), ['WorkflowFailed wf-b', 'WorkflowRunning wf-a', 'WorkflowRunning wf-b', 'WorkflowSucceeded wf-a'])
  // A snapshot's last event carries the watch's position as its id (the others none); live events their own.
  assert.match(all.raw, /^data: \{"result":\{.*"name":"e1".*\}\} \n\n\nid: \d+\ndata: \{"result":\{.*"name":"e2".*\}\} \n\n\n/)
  assert.match(all.raw, /^id: \d+\ndata: \{"result":\{.*"name":"e4".*\}\} \n\n\n/m)
  assert.doesNotMatch(all.raw, /\.000Z/, 'timestamps as Kubernetes writes them')
  assert.equal(s.emulator.openWatches(/events/), 1, 'one upstream watch for the namespace')
})

test('a bad field selector or a caller without rights gets a stream-format error', async (t) => {
  const s = await startStack(t, { users: [{ token: 'nobody', username: 'nobody', rules: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }] }] })
  const bad = await openStream(s, '/api/v1/stream/events/argo?listOptions.fieldSelector=spec.nope%3Dx')
  await bad.ended()
  assert.equal(bad.status, 400)
  assert.match(bad.raw, /"message":"field label not supported: spec.nope"/)
  const denied = await openStream(s, '/api/v1/stream/events/argo', { token: 'nobody' })
  await denied.ended()
  assert.equal(denied.status, 403)
  assert.match(denied.raw, /^\{"error":\{"grpc_code":7,/)
})

test('a snapshot is resumed exactly after its last id: nothing sent twice, nothing missed', async (t) => {
  const s = await startStack(t)
  const names = (r: { messages(): { result?: Record<string, unknown> }[] }) => r.messages().map((m) => (m.result?.metadata as { name?: string } | undefined)?.name)
  event(s, 'e1', 'wf-a', 'WorkflowRunning')
  event(s, 'e2', 'wf-a', 'WorkflowRunning')
  event(s, 'e3', 'wf-a', 'WorkflowRunning')
  // e1 changes last: the newest resourceVersion, and so the last event of the snapshot (in version order)
  s.emulator.patch(EV, 'e1', { count: 2 })
  const first = await openStream(s, '/api/v1/stream/events/argo', { sse: true })
  await first.until(() => first.messages().length === 3)
  first.close()
  // What an EventSource resumes from: the last id it saw.
  const ids = [...first.raw.matchAll(/^id: (.+)$/gm)].map((m) => m[1] as string)
  event(s, 'e4', 'wf-a', 'WorkflowSucceeded')
  const again = await openStream(s, '/api/v1/stream/events/argo', { sse: true, headers: { 'last-event-id': ids.at(-1) as string } })
  t.after(() => again.close())
  await again.until(() => again.messages().length >= 1)
  event(s, 'e5', 'wf-a', 'WorkflowSucceeded')
  await again.until(() => names(again).includes('e5'))
  assert.deepEqual(names(again), ['e4', 'e5'])
  assert.equal(ids.length, 1, `only the last event of a snapshot carries an id: ${first.raw}`)
  assert.match(first.raw, /id: [^\n]+\ndata: [^\n]*"name":"e1"/, 'on the last event')
})

test('the Events stream knows every Event of its scope, past the informer\'s first list page of 500', async (t) => {
  const s = await startStack(t)
  for (let i = 0; i < 700; i++) event(s, `e-${i}`, 'wf', `R${i}`)
  const all = await openStream(s, '/api/v1/stream/events/argo')
  const one = await openStream(s, '/api/v1/stream/events/argo?listOptions.fieldSelector=metadata.name%3De-650')
  t.after(() => [all, one].forEach((r) => r.close()))
  await all.until(() => all.messages().length === 700)
  await one.until(() => one.messages().length === 1)
  assert.deepEqual(reasons(one.messages()), ['R650 wf'])
})

test('fields masks the Events stream\'s results, as every stream\'s (spec §2.3)', async (t) => {
  const s = await startStack(t)
  event(s, 'e1', 'wf', 'Started')
  const r = await openStream(s, '/api/v1/stream/events/argo?fields=result.message,result.reason')
  t.after(() => r.close())
  await r.until(() => r.messages().length === 1)
  event(s, 'e2', 'wf', 'Done')
  await r.until(() => r.messages().length === 2)
  assert.deepEqual(r.messages(), [{ result: { message: 'Started wf', reason: 'Started' } }, { result: { message: 'Done wf', reason: 'Done' } }])
})

test('an Event deleted while the watch was down is not sent again as a repeat of its last frame (frames have no type)', async (t) => {
  const s = await startStack(t)
  event(s, 'x', 'wf', 'First')
  const r = await openStream(s, '/api/v1/stream/events/argo', { sse: true })
  t.after(() => r.close())
  await r.until(() => r.messages().length === 1)
  const unblock = s.emulator.fault({ path: /events/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  s.emulator.remove(EV, 'x')
  event(s, 'y', 'wf', 'Second')
  s.emulator.compact() // the resumed watch gets 410: a re-list finds x gone and y new
  unblock()
  await r.until(() => r.messages().length >= 2)
  event(s, 'z', 'wf', 'Third')
  await r.until(() => r.messages().length >= 3)
  assert.deepEqual(reasons(r.messages()), ['First wf', 'Second wf', 'Third wf'])
})

test('resuming after a restart: only the Events new or changed since the client\'s id, in version order; then live ones', async (t) => {
  const s = await startStack(t)
  const names = (r: { messages(): { result?: Record<string, unknown> }[] }) => r.messages().map((m) => (m.result?.metadata as { name?: string } | undefined)?.name)
  for (const name of ['e1', 'e2', 'e3']) event(s, name, 'wf-a', 'WorkflowRunning')
  const first = await openStream(s, '/api/v1/stream/events/argo', { sse: true })
  await first.until(() => first.messages().length === 3)
  const last = [...first.raw.matchAll(/^id: (.+)$/gm)].at(-1)?.[1] as string
  await s.stopServer()
  await first.ended()
  // While no server runs: one Event repeats (count 2, a new version), one is new.
  event(s, 'e4', 'wf-a', 'WorkflowSucceeded')
  s.emulator.patch(EV, 'e2', { count: 2 })
  await s.restartServer()
  const again = await openStream(s, '/api/v1/stream/events/argo', { sse: true, headers: { 'last-event-id': last } })
  t.after(() => again.close())
  await again.until(() => again.messages().length >= 2)
  event(s, 'e5', 'wf-a', 'WorkflowSucceeded')
  await again.until(() => names(again).includes('e5'))
  // Before, the new server sent its whole snapshot again (e1 to e4): every Event the client had, a second time.
  assert.deepEqual(names(again), ['e4', 'e2', 'e5'])
  assert.equal((again.messages()[1]?.result as { count?: number } | undefined)?.count, 2)
})
