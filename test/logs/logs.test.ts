import assert from 'node:assert/strict'
import { test } from 'node:test'
import { argoGroupRules, startStack, type Stack } from '../harness/stack.js'
import { NS, at, createPod, createWorkflow, readEntries } from './helpers.js'
import { pausingClient } from '../harness/streams.js'

const T = '2026-03-04T05:06:0'

/** wf-a with pods p1 and p2 whose lines interleave in time, written out of order per pod creation. */
async function twoPods(stack: Stack, wf = 'wf-a'): Promise<void> {
  await createWorkflow(stack, wf)
  createPod(stack.emulator, wf, `${wf}-p1`)
  createPod(stack.emulator, wf, `${wf}-p2`)
  const em = stack.emulator
  em.appendPodLog(NS, `${wf}-p1`, 'main', 'one', at(`${T}1.000Z`))
  em.appendPodLog(NS, `${wf}-p1`, 'main', 'three', at(`${T}3.000Z`))
  em.appendPodLog(NS, `${wf}-p1`, 'main', 'five', at(`${T}5.000Z`))
  em.appendPodLog(NS, `${wf}-p2`, 'main', 'two', at(`${T}2.000Z`))
  em.appendPodLog(NS, `${wf}-p2`, 'main', 'four', at(`${T}4.000Z`))
  em.appendPodLog(NS, `${wf}-p2`, 'main', 'six', at(`${T}6.000Z`))
  em.appendPodLog(NS, `${wf}-p2`, 'wait', 'not main', at(`${T}2.500Z`))
}

test('NDJSON: entries across pods in timestamp order, byte-exact', async (t) => {
  const stack = await startStack(t)
  await twoPods(stack)
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-a/log`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.equal(await res.text(), [
    '{"result":{"content":"one","podName":"wf-a-p1"}}',
    '{"result":{"content":"two","podName":"wf-a-p2"}}',
    '{"result":{"content":"three","podName":"wf-a-p1"}}',
    '{"result":{"content":"four","podName":"wf-a-p2"}}',
    '{"result":{"content":"five","podName":"wf-a-p1"}}',
    '{"result":{"content":"six","podName":"wf-a-p2"}}',
  ].map((l) => `${l}\n`).join(''))
})

test('SSE framing is byte-exact', async (t) => {
  const stack = await startStack(t)
  await createWorkflow(stack, 'wf-s')
  createPod(stack.emulator, 'wf-s', 'wf-s-p')
  stack.emulator.appendPodLog(NS, 'wf-s-p', 'main', 'hello', at(`${T}1.000Z`))
  stack.emulator.appendPodLog(NS, 'wf-s-p', 'main', '', at(`${T}2.000Z`))
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-s/log`, { headers: { accept: 'text/event-stream' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/event-stream')
  assert.equal(res.headers.get('cache-control'), 'no-cache')
  // an empty line keeps its entry, without `content` (omitempty, spec §2.8)
  assert.equal(await res.text(),
    'data: {"result":{"content":"hello","podName":"wf-s-p"}} \n\n\n' +
    'data: {"result":{"podName":"wf-s-p"}} \n\n\n')
})

test('container, tailLines, timestamps, sinceTime, limitBytes pass through', async (t) => {
  const stack = await startStack(t)
  await twoPods(stack)
  const base = `/api/v1/workflows/${NS}/wf-a/log`
  const contents = async (q: string) => (await readEntries(stack, `${base}?${q}`)).results.map((r) => r.content)
  assert.deepEqual(await contents('logOptions.tailLines=1'), ['five', 'six'])
  assert.deepEqual(await contents('logOptions.container=wait'), ['not main'])
  assert.deepEqual(await contents('logOptions.tailLines=1&logOptions.timestamps=true'), [
    '2026-03-04T05:06:05.000000000Z five', '2026-03-04T05:06:06.000000000Z six',
  ])
  assert.deepEqual(await contents(`logOptions.sinceTime.seconds=${Date.parse(`${T}4.000Z`) / 1000}`), ['four', 'five', 'six'])
  // each pod's log is cut at limitBytes, counted with the timestamps the server asks for
  assert.deepEqual(await contents('logOptions.limitBytes=35'), ['one', 'two'])
  assert.deepEqual(await contents('logOptions.tailLines=0'), [])
})

test('grep filters on content, with linear-time matching', async (t) => {
  const stack = await startStack(t)
  await twoPods(stack)
  const long = `${'a'.repeat(200_000)}b`
  stack.emulator.appendPodLog(NS, 'wf-a-p1', 'main', long, at(`${T}7.000Z`))
  const base = `/api/v1/workflows/${NS}/wf-a/log`
  const got = await readEntries(stack, `${base}?grep=${encodeURIComponent('^t')}`)
  assert.deepEqual(got.results.map((r) => r.content), ['two', 'three'])
  // catastrophic for a backtracking engine; RE2 answers at once
  const patho = await readEntries(stack, `${base}?grep=${encodeURIComponent('(a+)+$')}`)
  assert.deepEqual(patho.results, [])
  const hit = await readEntries(stack, `${base}?grep=${encodeURIComponent('(a+)+b$')}`)
  assert.deepEqual(hit.results.map((r) => (r.content as string).length), [long.length])
})

test('a grep whose matching takes seconds does not hold up the server\'s other requests', async (t) => {
  const stack = await startStack(t)
  await createWorkflow(stack, 'wf-slow')
  createPod(stack.emulator, 'wf-slow', 'wf-slow-1')
  // RE2 is linear in the line, times the pattern's size: seconds of matching for this one.
  stack.emulator.appendPodLog(NS, 'wf-slow-1', 'main', `${'w'.repeat(30_000)}`, at(`${T}1.000Z`))
  stack.emulator.appendPodLog(NS, 'wf-slow-1', 'main', `${'w'.repeat(1000)}7`, at(`${T}2.000Z`))
  let grepDone = false
  const slow = readEntries(stack, `/api/v1/workflows/${NS}/wf-slow/log?grep=${encodeURIComponent('\\w{1000}\\d')}`).then((r) => {
    grepDone = true
    return r
  })
  await new Promise((r) => setTimeout(r, 200)) // the matching has started
  const info = await stack.json('/api/v1/info')
  assert.equal(info.status, 200)
  assert.equal(grepDone, false, 'answered while the grep was still matching')
  assert.deepEqual((await slow).results.map((r) => (r.content as string).length), [1001])
})

test('a grep over its matching budget ends its own stream with ResourceExhausted; other greps go on', async (t) => {
  const stack = await startStack(t, { args: ['--log-grep-budget-seconds', '0.2'] })
  await createWorkflow(stack, 'wf-costly')
  createPod(stack.emulator, 'wf-costly', 'wf-costly-1')
  stack.emulator.appendPodLog(NS, 'wf-costly-1', 'main', 'w'.repeat(30_000), at(`${T}1.000Z`)) // seconds of matching
  stack.emulator.appendPodLog(NS, 'wf-costly-1', 'main', `${'w'.repeat(1000)}7`, at(`${T}2.000Z`))
  const costly = await stack.req(`/api/v1/workflows/${NS}/wf-costly/log?grep=${encodeURIComponent('\\w{1000}\\d')}`)
  assert.equal(costly.status, 200) // the stream was open before the matching began (spec §3: the error is a chunk)
  const body = await costly.text()
  const message = 'grep: matching this stream\'s log took more than its budget of 0.2 s: narrow the pattern or the log (tailLines, sinceSeconds, podName)'
  assert.equal(body, JSON.stringify({ error: { grpc_code: 8, http_code: 429, message, http_status: 'Too Many Requests' } }))
  // The matcher stopped mid-batch is replaced: the next grep is answered.
  await twoPods(stack)
  const cheap = await readEntries(stack, `/api/v1/workflows/${NS}/wf-a/log?grep=${encodeURIComponent('^t')}`)
  assert.deepEqual(cheap.results.map((r) => r.content), ['two', 'three'])
})

test('an invalid grep is 400 before the stream opens', async (t) => {
  const stack = await startStack(t)
  await createWorkflow(stack, 'wf-g')
  const res = await stack.json(`/api/v1/workflows/${NS}/wf-g/log?grep=${encodeURIComponent('(')}`)
  assert.equal(res.status, 400)
  assert.deepEqual(res.body, { code: 3, message: 'grep: error parsing regexp: missing closing ): `(`' })
  const neg = await stack.json(`/api/v1/workflows/${NS}/wf-g/log?logOptions.tailLines=-1`)
  assert.equal(neg.status, 400)
})

test('podName (query and the deprecated path) and selector pick pods', async (t) => {
  const stack = await startStack(t)
  await twoPods(stack)
  createPod(stack.emulator, 'wf-a', 'wf-a-p3', 'Running', { tier: 'x' })
  stack.emulator.appendPodLog(NS, 'wf-a-p3', 'main', 'from p3', at(`${T}9.000Z`))
  const pods = (r: Record<string, unknown>[]) => [...new Set(r.map((e) => e.podName))]
  assert.deepEqual(pods((await readEntries(stack, `/api/v1/workflows/${NS}/wf-a/log?podName=wf-a-p2`)).results), ['wf-a-p2'])
  const deprecated = await readEntries(stack, `/api/v1/workflows/${NS}/wf-a/wf-a-p1/log`)
  assert.deepEqual(deprecated.results.map((r) => r.content), ['one', 'three', 'five'])
  assert.deepEqual(pods((await readEntries(stack, `/api/v1/workflows/${NS}/wf-a/log?selector=tier%3Dx`)).results), ['wf-a-p3'])
})

test('pending pods are skipped; @latest resolves the newest workflow', async (t) => {
  const stack = await startStack(t)
  await twoPods(stack, 'wf-old')
  await new Promise((r) => setTimeout(r, 1100)) // creationTimestamp has one-second resolution
  await createWorkflow(stack, 'wf-new')
  createPod(stack.emulator, 'wf-new', 'wf-new-run')
  createPod(stack.emulator, 'wf-new', 'wf-new-pending', 'Pending')
  stack.emulator.appendPodLog(NS, 'wf-new-run', 'main', 'newest', at(`${T}1.000Z`))
  stack.emulator.appendPodLog(NS, 'wf-new-pending', 'main', 'not yet', at(`${T}1.000Z`))
  const got = await readEntries(stack, `/api/v1/workflows/${NS}/@latest/log`)
  assert.equal(got.status, 200)
  assert.deepEqual(got.results, [{ content: 'newest', podName: 'wf-new-run' }])
})

test('fields masks each chunk', async (t) => {
  const stack = await startStack(t)
  await twoPods(stack)
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-a/log?podName=wf-a-p1&fields=result.content`)
  assert.equal(await res.text(), '{"result":{"content":"one"}}\n{"result":{"content":"three"}}\n{"result":{"content":"five"}}\n')
})

test('a missing workflow is 404 in the stream error format', async (t) => {
  const stack = await startStack(t)
  const res = await stack.req(`/api/v1/workflows/${NS}/nope/log`)
  assert.equal(res.status, 404)
  assert.deepEqual(JSON.parse(await res.text()), {
    error: { grpc_code: 5, http_code: 404, message: 'workflows.argoproj.io "nope" not found', http_status: 'Not Found' },
  })
  const sse = await stack.req(`/api/v1/workflows/${NS}/nope/log`, { headers: { accept: 'text/event-stream' } })
  assert.equal(sse.status, 404)
  assert.match(await sse.text(), /^data: \{"error":\{"grpc_code":5,.*\} \n\n$/)
})

test('401 and 403 in the stream error format (client mode)', async (t) => {
  const stack = await startStack(t, {
    users: [{ token: 'reader', username: 'reader', rules: argoGroupRules(['list'], [NS]) }],
  })
  await createWorkflow(stack, 'wf-auth')
  const bad = await stack.req(`/api/v1/workflows/${NS}/wf-auth/log`, { token: 'not-a-token' })
  assert.equal(bad.status, 401)
  const badBody = JSON.parse(await bad.text()) as { error: Record<string, unknown> }
  assert.equal(badBody.error.grpc_code, 16)
  assert.equal(badBody.error.http_code, 401)
  const denied = await stack.req(`/api/v1/workflows/${NS}/wf-auth/log`, { token: 'reader' })
  assert.equal(denied.status, 403)
  const deniedBody = JSON.parse(await denied.text()) as { error: Record<string, unknown> }
  assert.equal(deniedBody.error.grpc_code, 7)
  const none = await stack.req(`/api/v1/workflows/${NS}/wf-auth/log`, { token: null })
  assert.equal(none.status, 401)
  assert.equal((JSON.parse(await none.text()) as { error: { http_status: string } }).error.http_status, 'Unauthorized')
})

test('long logs: per-pod queues fill and pause their reads, the merge stays exact', async (t) => {
  const stack = await startStack(t)
  await createWorkflow(stack, 'wf-big')
  createPod(stack.emulator, 'wf-big', 'wf-big-1')
  createPod(stack.emulator, 'wf-big', 'wf-big-2')
  const t0 = Date.parse(`${T}0.000Z`)
  const n = 25_000 // past the 10,000-line queue of each pod
  for (let i = 0; i < n; i++) {
    stack.emulator.appendPodLog(NS, 'wf-big-1', 'main', `${2 * i}`, new Date(t0 + 2 * i))
    stack.emulator.appendPodLog(NS, 'wf-big-2', 'main', `${2 * i + 1}`, new Date(t0 + 2 * i + 1))
  }
  const got = await readEntries(stack, `/api/v1/workflows/${NS}/wf-big/log`)
  assert.equal(got.results.length, 2 * n)
  got.results.forEach((r, i) => assert.equal(r.content, `${i}`))
})

test('a log larger than the stream buffer goes out at the pace of a reader that pauses, not cut off', async (t) => {
  const stack = await startStack(t, { args: ['--stream-buffer-bytes', '1000000'] })
  await createWorkflow(stack, 'wf-long')
  createPod(stack.emulator, 'wf-long', 'wf-long-1')
  const t0 = Date.parse(`${T}0.000Z`)
  const line = 'y'.repeat(1000)
  for (let i = 0; i < 16000; i++) stack.emulator.appendPodLog(NS, 'wf-long-1', 'main', `${i} ${line}`, new Date(t0 + i))
  // 16 MB of log against a 1 MB bound (the kernel buffers some MB), and a client that reads nothing for 2 s.
  const c = pausingClient(stack, `/api/v1/workflows/${NS}/wf-long/log`, 2000)
  t.after(() => c.close())
  await c.until('the end of the log', (r) => r.endsWith('0\r\n\r\n') || r.includes('"error"'))
  assert.doesNotMatch(c.received, /"error"/)
  assert.equal(c.received.match(/"content":"\d+ y+"/g)?.length, 16000)
  assert.ok(c.received.includes(`"content":"15999 ${line}"`))
})

test('a line over 1 MiB arrives whole, in pieces that stay together in order (spec §2.8: split, not cut short)', async (t) => {
  const stack = await startStack(t)
  await createWorkflow(stack, 'wf-long')
  createPod(stack.emulator, 'wf-long', 'wf-long-1')
  createPod(stack.emulator, 'wf-long', 'wf-long-2')
  const long = Array.from({ length: 2_500_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('')
  stack.emulator.appendPodLog(NS, 'wf-long-1', 'main', long, at(`${T}1.000Z`))
  stack.emulator.appendPodLog(NS, 'wf-long-1', 'main', 'after', at(`${T}3.000Z`))
  stack.emulator.appendPodLog(NS, 'wf-long-2', 'main', 'between', at(`${T}2.000Z`))
  const got = await readEntries(stack, `/api/v1/workflows/${NS}/wf-long/log`)
  const contents = got.results.map((r) => r.content as string)
  assert.equal(contents.length, 5, contents.map((c) => c.length).join(','))
  assert.equal(contents.slice(0, 3).join(''), long)
  assert.deepEqual(contents.slice(3), ['between', 'after'])
})
