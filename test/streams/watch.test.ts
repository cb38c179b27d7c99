import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { argoGroupRules, startStack, type Stack } from '../harness/stack.js'
import { openStream, watchEvents } from '../harness/streams.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const seed = (s: Stack, name: string, labels: Record<string, string> = {}, ns = 'argo') =>
  s.emulator.create({ ...WF, namespace: ns }, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, labels }, spec: { entrypoint: 'm' } })

test('NDJSON by default: a snapshot of ADDED, then every change, each a {"result":…} line', async (t) => {
  const s = await startStack(t)
  seed(s, 'a')
  const r = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => r.close())
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'application/json')
  assert.equal(r.headers.get('x-accel-buffering'), 'no')
  await r.until((raw) => raw.includes('"ADDED"'))
  seed(s, 'b')
  s.emulator.patch(WF, 'b', { status: { phase: 'Running' } })
  s.emulator.remove(WF, 'a')
  await r.until(() => watchEvents(r).length === 4)
  assert.deepEqual(watchEvents(r), ['ADDED a', 'ADDED b', 'MODIFIED b', 'DELETED a'])
  for (const line of r.raw.split('\n').filter(Boolean)) assert.match(line, /^\{"result":\{"type":"[A-Z]+","object":\{"metadata":/)
  assert.ok(r.raw.endsWith('}}}\n'))
})

test('SSE exactly with Accept: text/event-stream: upstream framing plus id lines and a heartbeat', async (t) => {
  const s = await startStack(t, { args: ['--sse-heartbeat-seconds', '0.05'] })
  const r = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  t.after(() => r.close())
  assert.equal(r.headers.get('content-type'), 'text/event-stream')
  assert.equal(r.headers.get('cache-control'), 'no-cache')
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff')
  await r.until((raw) => raw.includes(':\n'))
  const obj = seed(s, 'x')
  await r.until((raw) => raw.includes('"ADDED"'))
  const frame = new RegExp(`id: ${obj.metadata.resourceVersion}\\ndata: \\{"result":\\{"type":"ADDED","object":\\{.*\\}\\}\\} \\n\\n\\n`)
  assert.match(r.raw, frame)
  // The argo CLI (Go's HTTP client) reads every line over 6 bytes as data: it gets no id lines.
  const cli = await openStream(s, '/api/v1/workflow-events/argo', { sse: true, headers: { 'user-agent': 'Go-http-client/1.1' } })
  t.after(() => cli.close())
  await cli.until((raw) => raw.includes('"ADDED"'))
  assert.doesNotMatch(cli.raw, /^id:/m)
})

test('filters: label selector, field selector, @latest, namespace scope and fields masks', async (t) => {
  const s = await startStack(t)
  seed(s, 'one', { app: 'x' })
  seed(s, 'two', { app: 'y' })
  seed(s, 'other', { app: 'x' }, 'default')
  const byLabel = await openStream(s, '/api/v1/workflow-events/argo?listOptions.labelSelector=app%3Dx')
  const byName = await openStream(s, '/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3Dtwo')
  const all = await openStream(s, '/api/v1/workflow-events/')
  const masked = await openStream(s, '/api/v1/workflow-events/argo?fields=result.object.metadata.name,result.object.status.phase')
  t.after(() => [byLabel, byName, all, masked].forEach((r) => r.close()))
  await new Promise((r) => setTimeout(r, 1100)) // a later creationTimestamp for @latest
  seed(s, 'three', { app: 'x' })
  await byLabel.until(() => watchEvents(byLabel).length === 2)
  assert.deepEqual(watchEvents(byLabel), ['ADDED one', 'ADDED three'])
  await all.until(() => watchEvents(all).length === 4)
  assert.deepEqual(watchEvents(all).sort(), ['ADDED one', 'ADDED other', 'ADDED three', 'ADDED two'])
  await masked.until(() => masked.messages().length === 3)
  // Without result.type, type is dropped; status is kept as a prefix of a listed path (both as upstream).
  assert.deepEqual(masked.messages().find((m) => JSON.stringify(m).includes('"one"')), { result: { object: { metadata: { name: 'one' }, status: {} } } })
  const latest = await openStream(s, '/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3D%40latest')
  t.after(() => latest.close())
  await latest.until(() => watchEvents(latest).length === 1)
  s.emulator.patch(WF, 'one', { status: { phase: 'Running' } })
  s.emulator.patch(WF, 'three', { status: { phase: 'Running' } })
  await latest.until(() => watchEvents(latest).length === 2)
  assert.deepEqual(watchEvents(latest), ['ADDED three', 'MODIFIED three'])
  assert.deepEqual(watchEvents(byName), ['ADDED two'])
})

test('all clients share one upstream watch', async (t) => {
  const s = await startStack(t)
  const readers = await Promise.all(Array.from({ length: 5 }, (_, i) => openStream(s, i % 2 ? '/api/v1/workflow-events/argo' : '/api/v1/workflow-events/')))
  t.after(() => readers.forEach((r) => r.close()))
  seed(s, 'w')
  await Promise.all(readers.map((r) => r.until(() => watchEvents(r).length === 1)))
  assert.equal(s.emulator.openWatches(/workflows/), 1)
})

test('fifty watches opened at once with one token ask Kubernetes one SelfSubjectAccessReview', async (t) => {
  const s = await startStack(t)
  const reviews = () => s.emulator.requestCount({ method: 'POST', path: /selfsubjectaccessreviews/ })
  const before = reviews()
  // Answered slowly, so the fifty questions are all asked before the first answer comes.
  t.after(s.emulator.fault({ method: 'POST', path: /selfsubjectaccessreviews/, delayMs: 300, times: Infinity }))
  const readers = await Promise.all(Array.from({ length: 50 }, () => openStream(s, '/api/v1/workflow-events/argo')))
  t.after(() => readers.forEach((r) => r.close()))
  seed(s, 'w')
  await Promise.all(readers.map((r) => r.until(() => watchEvents(r).length === 1)))
  assert.equal(reviews() - before, 1)
})

test('resume by Last-Event-ID or resourceVersion: no gap, no duplicate; a position no longer kept gets a fresh snapshot', async (t) => {
  const s = await startStack(t, { args: ['--watch-history-bytes', '20000'] })
  seed(s, 'a')
  const first = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  await first.until((raw) => raw.includes('id: '))
  seed(s, 'b')
  await first.until(() => watchEvents(first).length === 2)
  const lastId = [...first.raw.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]).pop() as string
  first.close()
  seed(s, 'c')
  s.emulator.patch(WF, 'a', { status: { phase: 'Running' } })
  const resumed = await openStream(s, '/api/v1/workflow-events/argo', { sse: true, headers: { 'last-event-id': lastId } })
  t.after(() => resumed.close())
  await resumed.until(() => watchEvents(resumed).length === 2)
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(watchEvents(resumed), ['ADDED c', 'MODIFIED a'])
  const byRv = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${lastId}`)
  t.after(() => byRv.close())
  await byRv.until(() => watchEvents(byRv).length === 2)
  assert.deepEqual(watchEvents(byRv), ['ADDED c', 'MODIFIED a'])
  // Pushed out of the kept history: what changed since, from Kubernetes' state at that version (see watch-restart.test.ts)…
  for (let i = 0; i < 200; i++) seed(s, `filler-${i}`)
  await byRv.until(() => watchEvents(byRv).length === 202)
  const tooOld = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${lastId}`)
  t.after(() => tooOld.close())
  await tooOld.until(() => watchEvents(tooOld).length === 202)
  assert.equal(tooOld.status, 200)
  assert.deepEqual(watchEvents(tooOld), watchEvents(byRv))
  // …and once Kubernetes no longer has it either, a fresh snapshot, not an error.
  s.emulator.compact()
  const compacted = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${lastId}`)
  t.after(() => compacted.close())
  await compacted.until(() => watchEvents(compacted).length === 203)
  assert.equal(compacted.status, 200)
  assert.ok(watchEvents(compacted).every((e) => e.startsWith('ADDED ')))
})

test('the upstream watch dropped, or compacted (410): re-listed, and clients see every change exactly once', async (t) => {
  const s = await startStack(t)
  seed(s, 'keep')
  seed(s, 'gone')
  const r = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => r.close())
  await r.until(() => watchEvents(r).length === 2)
  s.emulator.dropWatches()
  seed(s, 'after-drop')
  await r.until(() => watchEvents(r).includes('ADDED after-drop'))
  // Block the re-watch, change things, forget history: the informer gets 410 and re-lists.
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  seed(s, 'while-down')
  s.emulator.patch(WF, 'keep', { status: { phase: 'Running' } })
  s.emulator.remove(WF, 'gone')
  s.emulator.compact()
  unblock()
  await r.until(() => watchEvents(r).length === 6)
  await new Promise((res) => setTimeout(res, 300))
  assert.deepEqual(watchEvents(r).slice(3).sort(), ['ADDED while-down', 'DELETED gone', 'MODIFIED keep'])
  assert.equal(watchEvents(r).length, 6, 'nothing twice')
})

test('a slow client is closed with a stream error; the others keep receiving', async (t) => {
  const s = await startStack(t, { args: ['--stream-buffer-bytes', '1000000'] })
  // A client that stops reading: a raw socket, paused, so the kernel's buffers and then the server's fill up.
  const url = new URL(s.url)
  const slow = net.connect(Number(url.port), url.hostname)
  slow.write(`GET /api/v1/workflow-events/argo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.emulator.adminToken}\r\n\r\n`)
  slow.pause()
  const fast = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => { slow.destroy(); fast.close() })
  const value = 'x'.repeat(30_000)
  for (let i = 1; i <= 400; i++) {
    s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `big-${i}` }, spec: { entrypoint: 'm', arguments: { parameters: [{ name: 'p', value }] } } })
    // The reading client keeps up (it shares this process with the server, so let it read).
    if (i % 5 === 0) await fast.until(() => watchEvents(fast).length === i, 30_000)
  }
  let received = ''
  slow.setEncoding('utf8')
  slow.on('data', (d: string) => { received += d })
  const closed = new Promise((r) => slow.once('end', r))
  slow.resume()
  await closed
  assert.match(received, /\{"error":\{"grpc_code":8,"http_code":429,"message":"the client is reading too slowly: stream closed"/)
  assert.ok(received.length < 12_000_000, 'the server stopped sending')
})

test('stream errors: bad tokens and missing rights answer in the stream format with the right status', async (t) => {
  const users = [{ token: 'nobody', username: 'nobody', rules: argoGroupRules([]) }]
  const s = await startStack(t, { users })
  const fake = await openStream(s, '/api/v1/workflow-events/argo', { token: 'garbage' })
  await fake.ended()
  assert.equal(fake.status, 401)
  assert.equal((fake.messages()[0]?.error as { grpc_code: number }).grpc_code, 16)
  const none = await openStream(s, '/api/v1/workflow-events/argo', { token: null })
  await none.ended()
  assert.equal(none.status, 401)
  assert.match(none.raw, /^\{"error":\{"grpc_code":16,"http_code":401,"message":"token not valid/)
  const denied = await openStream(s, '/api/v1/workflow-events/argo', { token: 'nobody', sse: true })
  await denied.ended()
  assert.equal(denied.status, 403)
  assert.match(denied.raw, /^data: \{"error":\{"grpc_code":7,"http_code":403,/)
  const bad = await openStream(s, '/api/v1/workflow-events/argo?listOptions.labelSelector=a%3D%27b%27')
  await bad.ended()
  assert.equal(bad.status, 400)
})

test('an apiserver outage becomes a stream error after a bounded time', async (t) => {
  const s = await startStack(t, { args: ['--watch-outage-seconds', '0.5'] })
  const r = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => r.close())
  seed(s, 'a')
  await r.until(() => watchEvents(r).length === 1)
  s.emulator.fault({ path: /workflows/, status: 503, times: Infinity })
  s.emulator.dropWatches()
  await r.ended()
  const err = r.messages().pop()?.error as { grpc_code: number; http_code: number }
  assert.equal(err.grpc_code, 14)
  assert.equal(err.http_code, 503)
})

test('a paused apiserver (connections held open, nothing answered) becomes a stream error; a short pause loses nothing', async (t) => {
  const s = await startStack(t, { args: ['--watch-outage-seconds', '1'] })
  const r = await openStream(s, '/api/v1/workflow-events/argo')
  t.after(() => r.close())
  seed(s, 'a')
  await r.until(() => watchEvents(r).length === 1)
  // Shorter than detection: what changed meanwhile arrives afterwards, once.
  let resume = s.emulator.pause()
  seed(s, 'b')
  await new Promise((r) => setTimeout(r, 200))
  resume()
  await r.until(() => watchEvents(r).length === 2)
  // A pause that lasts: the stream ends with Unavailable instead of waiting silently.
  resume = s.emulator.pause()
  t.after(resume)
  const paused = Date.now()
  await r.ended(20_000)
  const err = r.messages().pop()?.error as { grpc_code: number; http_code: number; message: string }
  assert.equal(err.grpc_code, 14)
  assert.match(err.message, /no answer to a list of workflows within 0\.3 s/)
  assert.ok(Date.now() - paused < 10_000, `ended after ${Date.now() - paused} ms`)
  assert.deepEqual(watchEvents(r), ['ADDED a', 'ADDED b'])
  // Once it answers again (and the server has heard it), streams work again, with what changed during the pause.
  seed(s, 'c')
  resume()
  const deadline = Date.now() + 20_000
  for (;;) {
    const again = await openStream(s, '/api/v1/workflow-events/argo')
    t.after(() => again.close())
    await again.until((raw) => watchEvents(again).length === 3 || raw.includes('"error"'))
    if (watchEvents(again).length === 3) break
    assert.ok(Date.now() < deadline, 'streams still fail 20 s after the apiserver answers again')
    await new Promise((r) => setTimeout(r, 100))
  }
})

test('fields: clients with different masks on one event each get their own shape (frames are shared per mask)', async (t) => {
  const s = await startStack(t)
  seed(s, 'w')
  const a1 = await openStream(s, '/api/v1/workflow-events/argo?fields=result.type,result.object.metadata.name')
  const a2 = await openStream(s, '/api/v1/workflow-events/argo?fields=result.type,result.object.metadata.name', { sse: true })
  const b = await openStream(s, '/api/v1/workflow-events/argo?fields=result.object.status.phase')
  const plain = await openStream(s, '/api/v1/workflow-events/argo')
  const all = [a1, a2, b, plain]
  t.after(() => all.forEach((r) => r.close()))
  await Promise.all(all.map((r) => r.until(() => r.messages().length === 1)))
  s.emulator.patch(WF, 'w', { status: { phase: 'Running' } })
  await Promise.all(all.map((r) => r.until(() => r.messages().length === 2)))
  for (const r of [a1, a2]) assert.deepEqual(r.messages()[1], { result: { type: 'MODIFIED', object: { metadata: { name: 'w' } } } })
  assert.deepEqual(b.messages()[1], { result: { object: { status: { phase: 'Running' } } } })
  assert.equal((plain.messages()[1]?.result as { object: { spec: { entrypoint: string } } }).object.spec.entrypoint, 'm')
  assert.match(a2.raw, /id: \d+\ndata: \{"result":\{"type":"MODIFIED","object":\{"metadata":\{"name":"w"\}\}\}\} \n\n\n$/)
})

test('listOptions.timeoutSeconds ends a watch cleanly, as the Kubernetes watch upstream passes it to', async (t) => {
  const s = await startStack(t)
  seed(s, 'w')
  const wf = await openStream(s, '/api/v1/workflow-events/argo?listOptions.timeoutSeconds=1')
  const ev = await openStream(s, '/api/v1/stream/events/argo?listOptions.timeoutSeconds=1', { sse: true })
  t.after(() => [wf, ev].forEach((r) => r.close()))
  await Promise.all([wf.ended(), ev.ended()])
  assert.deepEqual(watchEvents(wf), ['ADDED w'])
  assert.doesNotMatch(wf.raw + ev.raw, /"error"/)
})
