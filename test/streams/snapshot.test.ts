import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { pausingClient } from '../harness/streams.js'

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
