import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { argoGroupRules, startStack, type Stack, type StackOptions } from '../harness/stack.js'
import { openStream, watchEvents, within, type StreamReader } from '../harness/streams.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const EV = { group: '', resource: 'events', namespace: 'argo' }
const seed = (s: Stack, name: string) =>
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' } })
const event = (s: Stack, name: string) => s.emulator.create(EV, {
  apiVersion: 'v1', kind: 'Event', metadata: { name },
  involvedObject: { kind: 'Workflow', name: 'wf', namespace: 'argo' }, reason: 'WorkflowRunning', type: 'Normal',
})
const watcher = (token: string) => ({
  token, username: token,
  rules: [...argoGroupRules(['get', 'list', 'watch']), { verbs: ['watch'], apiGroups: [''], resources: ['events'] }],
})
const WORKFLOWS = '/api/v1/workflow-events/argo'
const EVENTS = '/api/v1/stream/events/argo'

/** A stream that was refused before it opened: status 503 and one Unavailable error chunk, nothing else (spec §3). */
async function assertRefused(r: StreamReader, what: string): Promise<void> {
  await r.ended()
  assert.equal(r.status, 503, `${what}: ${r.raw}`)
  assert.deepEqual(r.messages().map((m) => [m.result !== undefined, (m.error as { grpc_code?: number } | undefined)?.grpc_code]), [[false, 14]], `${what}: ${r.raw}`)
}

test('workflow-events during an apiserver outage: new streams get 503 within the window, reconnects no stale snapshot', async (t) => {
  const s = await startStack(t, { args: ['--watch-outage-seconds', '1'], users: [watcher('early'), watcher('late')] })
  seed(s, 'a')
  const open = await openStream(s, WORKFLOWS)
  t.after(() => open.close())
  await open.until(() => watchEvents(open).length === 1)
  const resume = s.emulator.pause()
  t.after(resume)
  // A caller whose permission check is not cached: the unanswerable review ends when the outage is declared.
  const fresh = await within(8_000, openStream(s, WORKFLOWS, { token: 'early', sse: true }), 'a stream opened as the apiserver stopped')
  await assertRefused(fresh, 'uncached permission check')
  await open.ended()
  assert.equal((open.messages().pop()?.error as { grpc_code?: number } | undefined)?.grpc_code, 14)
  // An EventSource reconnecting (its permission check still cached) gets the error alone, not the snapshot again.
  const again = await within(5_000, openStream(s, WORKFLOWS, { sse: true, headers: { 'last-event-id': '1' } }), 'a reconnect')
  await assertRefused(again, 'reconnect with a cached check')
  const fresh2 = await within(5_000, openStream(s, WORKFLOWS, { sse: true }), 'a fresh reconnect')
  await assertRefused(fresh2, 'fresh reconnect with a cached check')
  // Once the outage is declared, a new caller is refused at once rather than after its permission check times out.
  const late = await within(5_000, openStream(s, WORKFLOWS, { token: 'late' }), 'a new caller during the outage')
  await assertRefused(late, 'new caller after the outage was declared')
})

test('stream/events during an apiserver outage: 503 for new callers and reconnects, without a stale snapshot', async (t) => {
  const s = await startStack(t, { args: ['--watch-outage-seconds', '1'], users: [watcher('late')] })
  event(s, 'e1')
  const open = await openStream(s, EVENTS, { sse: true })
  t.after(() => open.close())
  await open.until(() => open.messages().length === 1)
  const resume = s.emulator.pause()
  t.after(resume)
  await open.ended()
  assert.equal((open.messages().pop()?.error as { grpc_code?: number } | undefined)?.grpc_code, 14)
  const again = await within(5_000, openStream(s, EVENTS, { sse: true }), 'a reconnect')
  await assertRefused(again, 'reconnect with a cached check')
  const late = await within(5_000, openStream(s, EVENTS, { token: 'late' }), 'a new caller during the outage')
  await assertRefused(late, 'new caller')
})

test("a new stream/events watch whose first list is never answered ends with 503 instead of waiting", async (t) => {
  const s = await startStack(t, { args: ['--watch-outage-seconds', '1'] })
  // The apiserver answers everything but the list of Events in `default`, which it leaves open and silent.
  s.emulator.fault({ path: /\/namespaces\/default\/events$/, watch: false, hang: true, times: Infinity })
  const r = await within(8_000, openStream(s, '/api/v1/stream/events/default', { sse: true }), 'a stream whose list hangs')
  await assertRefused(r, 'unsynced events watch')
})

/** A server whose streams end after `outageSeconds` of failure, and a workflow-events stream that has had one event. */
async function streamingOneWorkflow(t: TestContext, outageSeconds: number, opts: StackOptions = {}): Promise<{ s: Stack; r: StreamReader }> {
  const s = await startStack(t, { ...opts, args: ['--watch-outage-seconds', String(outageSeconds)] })
  const r = await openStream(s, WORKFLOWS)
  t.after(() => r.close())
  seed(s, 'a')
  await r.until(() => watchEvents(r).length === 1)
  return { s, r }
}

test('streams end --watch-outage-seconds after the apiserver last answered, not after detection plus that window', async (t) => {
  // A window long enough that the old timing (detection, then the whole window: ~1.7 windows) and slack for a
  // loaded machine cannot meet: it ended after ~15 s with this window before.
  const { s, r } = await streamingOneWorkflow(t, 9)
  const resume = s.emulator.pause()
  t.after(resume)
  const paused = Date.now()
  await r.ended(30_000)
  const took = Date.now() - paused
  assert.equal((r.messages().pop()?.error as { grpc_code?: number } | undefined)?.grpc_code, 14)
  // Noticing the silence takes up to two thirds of the window (a probe after 3 s of quiet, unanswered for 3 s): counted in.
  assert.ok(took < 9_000 + 3_000, `the stream ended ${took} ms after the apiserver stopped; the window is 9 s`)
  assert.ok(took > 9_000 - 1_500, `the stream ended ${took} ms after the apiserver stopped: before the window`)
})

/** Every connection to the API dropped unanswered for `downMs`; `afterMs` later the stream must still be open. */
async function survives(s: Stack, r: StreamReader, downMs: number, afterMs: number): Promise<void> {
  const stop = s.emulator.fault({ path: /workflows$/, reset: true, times: Infinity })
  s.emulator.dropWatches()
  await new Promise((res) => setTimeout(res, downMs))
  stop()
  await new Promise((res) => setTimeout(res, afterMs))
  assert.deepEqual(r.messages().filter((m) => m.error !== undefined), [], r.raw.slice(-300))
  seed(s, 'b')
  await r.until(() => watchEvents(r).includes('ADDED b'))
}

test('an apiserver back before the window ends is found in time: streams stay open however long the backoff had grown', async (t) => {
  const { s, r } = await streamingOneWorkflow(t, 12)
  // Down for 8 s: retries 0.2, 0.4, … 6.4 s apart put the next one past 12 s. Before, the outage was declared at
  // 12 s, 4 s after the API was back, and every stream was cut.
  await survives(s, r, 8_000, 6_000)
})

test('an apiserver back in the last moments of the window is found by one more attempt before the outage is declared', async (t) => {
  const { s, r } = await streamingOneWorkflow(t, 6)
  // The API's last answer: this event, then connections dropped unanswered; the window ends 6 s after it.
  seed(s, 'x')
  await r.until(() => watchEvents(r).includes('ADDED x'))
  // Back 1.2 s before the window ends: after the informer's attempt 2 s before it, before its next one. Before, the
  // outage was declared at 6 s, as the attempt that would have found the API was being made.
  await survives(s, r, 4_800, 3_000)
})

test('a watch that worked for a while and is then cut is re-opened at once, however long the wait had grown before', async (t) => {
  const { s, r } = await streamingOneWorkflow(t, 30)
  const stop = s.emulator.fault({ path: /workflows$/, reset: true, times: Infinity })
  s.emulator.dropWatches()
  // Retries 0.2, 0.4, … 6.4 s apart: the API is back at 6.5 s, and the watch re-opened at the next one.
  await new Promise((res) => setTimeout(res, 6_500))
  stop()
  const before = s.emulator.requestCount({ path: /workflows$/, watch: true })
  await r.until(() => s.emulator.requestCount({ path: /workflows$/, watch: true }) > before, 15_000)
  await new Promise((res) => setTimeout(res, 2_000))
  s.emulator.dropWatches()
  seed(s, 'b')
  // Before, the grown wait (10 s) came again after this cut of a watch that had worked for 2 s.
  await r.until(() => watchEvents(r).includes('ADDED b'), 4_000)
})

test("an outage's stream error says what failed, not the apiserver's address", async (t) => {
  const { s, r } = await streamingOneWorkflow(t, 2)
  s.emulator.fault({ path: /workflows$/, reset: true, times: Infinity })
  s.emulator.dropWatches()
  await r.ended(15_000)
  const error = r.messages().pop()?.error as { grpc_code?: number; message?: string } | undefined
  assert.deepEqual([error?.grpc_code, error?.message], [14, 'the Kubernetes API is unavailable: ECONNRESET'])
  const refused = await openStream(s, WORKFLOWS)
  await assertRefused(refused, 'a new stream during the outage')
  assert.doesNotMatch(refused.raw, /127\.0\.0\.1|http:/)
})

test('watches accepted and then cut at once, every time, while lists answer: streams end after --watch-outage-seconds', async (t) => {
  const { s, r } = await streamingOneWorkflow(t, 6)
  // A proxy that drops every watch as soon as it starts: 200, then the connection closed.
  s.emulator.fault({ path: /workflows$/, watch: true, cut: true, times: Infinity })
  const cut = Date.now()
  s.emulator.dropWatches()
  await r.ended(20_000)
  const took = Date.now() - cut
  assert.equal((r.messages().pop()?.error as { grpc_code?: number } | undefined)?.grpc_code, 14)
  // Each 200 counted as an answer, so the outage started again at every attempt: it ended after ~12 s here, and
  // with the default 30 s window never (retries are at most 10 s apart), the streams silently stale.
  assert.ok(took < 6_000 + 2_500, `the stream ended ${took} ms after the watches started to be cut; the window is 6 s`)
  assert.ok(s.emulator.requestCount({ path: /workflows$/, watch: true }) >= 4, 'the watch was retried meanwhile')
})

test('watches cut at once, after the outage is declared: new streams are refused at once, and watches tried every 2 s', async (t) => {
  const { s, r } = await streamingOneWorkflow(t, 3)
  s.emulator.fault({ path: /workflows$/, watch: true, cut: true, times: Infinity })
  s.emulator.dropWatches()
  await r.ended(20_000)
  const before = s.emulator.requestCount({ path: /workflows$/, watch: true })
  // Before, each accepted watch ended the outage for a moment and had it declared again at once: an attempt each
  // time (a thousand in 6 s), and some new streams got a stale snapshot instead of the 503.
  const outcomes: string[] = []
  for (const end = Date.now() + 6_000; Date.now() < end;) {
    const c = await openStream(s, WORKFLOWS)
    await c.ended(10_000)
    outcomes.push(`${c.status}:${c.messages().filter((m) => m.result).length}`)
    await new Promise((res) => setTimeout(res, 50))
  }
  assert.deepEqual(outcomes.filter((o) => o !== '503:0'), [], `${outcomes.length} streams opened during the outage`)
  const attempts = s.emulator.requestCount({ path: /workflows$/, watch: true }) - before
  assert.ok(attempts <= 6, `${attempts} watch requests in 6 s of a declared outage`)
})

test('a watch accepted again before the window ends is an answer, however quiet: streams stay open', async (t) => {
  // Bookmarks every 10 minutes, as an apiserver's are (about a minute): the accepted watch says nothing.
  const { s, r } = await streamingOneWorkflow(t, 3.5, { bookmarkIntervalMs: 600_000 })
  // Refused three times (0.2 + 0.4 + 0.8 s of retries, and the request times on a loaded machine), then accepted.
  s.emulator.fault({ path: /workflows$/, watch: true, status: 503, times: 3 })
  s.emulator.dropWatches()
  await new Promise((res) => setTimeout(res, 6_000))
  // An accepted watch counted only once it had lived a second ended the stream here (it answered in time).
  assert.equal(s.emulator.requestCount({ path: /workflows$/, watch: true }), 5, 'the first watch, three refused, the accepted one')
  assert.deepEqual(r.messages().filter((m) => m.error !== undefined), [], r.raw.slice(-300))
  seed(s, 'b')
  await r.until(() => watchEvents(r).includes('ADDED b'))
})

test('a re-list arriving slowly but steadily is an answer, not an outage: streams stay open and miss nothing', async (t) => {
  // Streams end after 1.5 s of failure; a request unanswered for 0.5 s counts as failing.
  const s = await startStack(t, { args: ['--watch-outage-seconds', '1.5'] })
  const bulk = 'x'.repeat(1500)
  for (let i = 0; i < 100; i++) {
    s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `w-${i}`, annotations: { bulk } }, spec: { entrypoint: 'm' } })
  }
  const r = await openStream(s, WORKFLOWS)
  t.after(() => r.close())
  await r.until(() => watchEvents(r).length === 100)
  // From now on a list's body trickles at 50 KB/s: the ~170 KB re-list takes over 3 s, a piece every 50 ms.
  s.emulator.fault({ method: 'GET', watch: false, path: /workflows$/, bytesPerSecond: 50_000, times: Infinity })
  // A change the watch misses, then history forgotten: the re-watch gets 410 and the informer re-lists.
  const unblock = s.emulator.fault({ path: /workflows$/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  seed(s, 'late')
  s.emulator.compact()
  unblock()
  await r.until(() => watchEvents(r).includes('ADDED late'), 20_000)
  assert.ok(s.emulator.requestCount({ method: 'GET', path: /workflows$/, watch: false }) >= 2, 're-listed')
  assert.equal(r.messages().filter((m) => m.error !== undefined).length, 0, r.raw.slice(-300))
  seed(s, 'later')
  await r.until(() => watchEvents(r).includes('ADDED later'))
  assert.equal(watchEvents(r).length, 102)
})
