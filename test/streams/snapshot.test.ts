import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { openStream, pausingClient } from '../harness/streams.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const EV = { group: '', resource: 'events', namespace: 'argo' }
const big = 'x'.repeat(50_000)

const count = (raw: string, re: RegExp) => raw.match(re)?.length ?? 0

test('a snapshot larger than the buffer bound goes out at the client\'s pace, live events after it, to a reader that pauses', async (t) => {
  const s = await startStack(t, { args: ['--stream-buffer-bytes', '1000000'] })
  for (let i = 0; i < 60; i++) {
    s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `big-${i}` }, spec: { entrypoint: 'm', arguments: { parameters: [{ name: 'p', value: big }] } } })
  }
  // 3 MB of snapshot against a 1 MB bound, and a client that reads nothing for a second.
  const c = pausingClient(s, '/api/v1/workflow-events/argo', 1000)
  t.after(() => c.close())
  await new Promise((r) => setTimeout(r, 300))
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'late' }, spec: { entrypoint: 'm' } })
  await c.until('the live event after the snapshot', (r) => r.includes('"name":"late"'))
  assert.doesNotMatch(c.received, /"error"/)
  assert.equal(count(c.received, /"type":"ADDED"/g), 61)
  assert.equal(count(c.received, /"name":"big-\d+"/g), 60)
  assert.ok(c.received.lastIndexOf('"name":"big-') < c.received.indexOf('"name":"late"'), 'the live event after the whole snapshot')
})

test('the Events stream\'s snapshot too goes out at the client\'s pace', async (t) => {
  const s = await startStack(t, { args: ['--stream-buffer-bytes', '1000000'] })
  for (let i = 0; i < 60; i++) {
    s.emulator.create(EV, { apiVersion: 'v1', kind: 'Event', metadata: { name: `e-${i}` }, involvedObject: { kind: 'Workflow', name: 'w', namespace: 'argo' }, reason: 'R', message: big })
  }
  const c = pausingClient(s, '/api/v1/stream/events/argo', 1000)
  t.after(() => c.close())
  await c.until('the whole snapshot', (r) => count(r, /"name":"e-\d+"/g) === 60 || r.includes('"error"'))
  assert.doesNotMatch(c.received, /"error"/)
})

test('clients connecting together each get the snapshot in their own framing and mask; one connecting just after a change gets the change', async (t) => {
  const s = await startStack(t)
  const names = ['w-0', 'w-1', 'w-2', 'w-3']
  for (const name of names) s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, labels: { v: '1' } }, spec: { entrypoint: 'm' } })
  const event = (name: string) => s.emulator.create(EV, { apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Workflow', name: 'w-0', namespace: 'argo' }, reason: 'R', message: 'm' })
  event('e-0')
  event('e-1')
  const W = '/api/v1/workflow-events/argo'
  const masked = `${W}?fields=result.object.metadata.name,result.object.metadata.labels`
  const clients = await Promise.all([
    openStream(s, W), openStream(s, W, { sse: true }), openStream(s, masked), openStream(s, masked, { sse: true }),
    openStream(s, '/api/v1/stream/events/argo'), openStream(s, '/api/v1/stream/events/argo', { sse: true }),
  ])
  t.after(() => clients.forEach((c) => c.close()))
  event('e-live')
  const [ndjson, sse, ndjsonMasked, sseMasked, events, eventsSse] = clients
  for (const c of [ndjson, sse, ndjsonMasked, sseMasked]) await c.until((r) => count(r, /"name":"w-\d"/g) === 4)
  for (const c of [events, eventsSse]) await c.until((r) => r.includes('"name":"e-live"'))
  const unmasked = ndjson.messages()
  assert.deepEqual(unmasked.map((m) => (m.result?.object as { metadata: { name: string } }).metadata.name), names)
  assert.ok(unmasked.every((m) => m.result?.type === 'ADDED' && (m.result.object as { spec?: unknown }).spec), 'whole ADDED events')
  assert.ok(ndjson.raw.split('\n').slice(0, -1).every((l) => l.startsWith('{"result":{"type":"ADDED","object":{')), ndjson.raw)
  assert.deepEqual(sse.messages(), unmasked)
  assert.match(sse.raw, /^data: \{"result":\{"type":"ADDED"/)
  // Each masked client gets exactly the mask's fields, in its own framing.
  const maskedLines = names.map((n) => `{"result":{"object":{"metadata":{"name":"${n}","labels":{"v":"1"}}}}}`)
  assert.equal(ndjsonMasked.raw, maskedLines.map((l) => `${l}\n`).join(''))
  assert.deepEqual(sseMasked.messages().map((m) => JSON.stringify(m)), maskedLines)
  assert.ok(!sseMasked.raw.includes('"spec"') && !ndjsonMasked.raw.includes('"spec"'))
  const eventNames = (c: typeof events) => c.messages().map((m) => (m.result?.metadata as { name: string }).name)
  assert.deepEqual(eventNames(events), ['e-0', 'e-1', 'e-live'])
  assert.deepEqual(eventNames(eventsSse), ['e-0', 'e-1', 'e-live'])
  assert.match(events.raw, /^\{"result":\{"metadata":\{"name":"e-0"/)
  assert.match(eventsSse.raw, /^data: \{"result":\{"metadata":\{"name":"e-0"/)

  // A change just after: the next client's snapshot has it, not what the clients before it were sent.
  s.emulator.patch(WF, 'w-1', { metadata: { labels: { v: '2' } } })
  // (w-1 not last in the late client's snapshot: the last event, with the snapshot's id, is never shared)
  s.emulator.patch(WF, 'w-3', { metadata: { annotations: { a: 'b' } } })
  await ndjsonMasked.until((r) => count(r, /"name":"w-3"/g) === 2)
  const late = await openStream(s, masked)
  t.after(() => late.close())
  await late.until((r) => count(r, /"name":"w-\d"/g) === 4)
  assert.equal(late.raw, ['w-0', 'w-2', 'w-1', 'w-3'].map((n) => `{"result":{"object":{"metadata":{"name":"${n}","labels":{"v":"${n === 'w-1' ? 2 : 1}"}}}}}\n`).join(''))
})
