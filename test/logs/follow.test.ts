import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { startStack } from '../harness/stack.js'
import { openStream, within } from '../harness/streams.js'
import { NS, PODS, WORKFLOWS, at, createPod, eventually, readEntries, readUntil, runningWorkflow } from './helpers.js'

const T = '2026-03-04T05:06:0'

test('follow picks up a pod created after the stream started and ends when the workflow completes', async (t) => {
  const stack = await startStack(t)
  const em = stack.emulator
  await runningWorkflow(stack, 'wf-f', 1, 'early', at(`${T}1.000Z`))

  const res = await stack.req(`/api/v1/workflows/${NS}/wf-f/log?logOptions.follow=true`)
  assert.equal(res.status, 200)
  const first = await readUntil(res, (s) => s.includes('early'))
  // the stream is live: both upstream watches (pods, workflow) are open
  await eventually(() => em.openWatches(/\/pods$/) === 1 && em.openWatches(/\/workflows$/) >= 1, 'the pod and workflow watches')

  createPod(em, 'wf-f', 'wf-f-2', 'Pending')
  em.appendPodLog(NS, 'wf-f-2', 'main', 'late', new Date())
  em.patch(PODS, 'wf-f-2', { status: { phase: 'Running' } })
  em.appendPodLog(NS, 'wf-f-1', 'main', 'more', new Date())

  let text = first.text
  const decoder = new TextDecoder()
  const readMore = async (until: (s: string) => boolean) => {
    while (!until(text)) {
      const { done, value } = await first.reader.read()
      if (done) return true
      text += decoder.decode(value, { stream: true })
    }
    return false
  }
  await readMore((s) => s.includes('late') && s.includes('more'))

  em.patch(PODS, 'wf-f-1', { status: { phase: 'Succeeded' } })
  em.patch(PODS, 'wf-f-2', { status: { phase: 'Succeeded' } })
  em.patch(WORKFLOWS, 'wf-f', { status: { phase: 'Succeeded' } })
  assert.equal(await readMore(() => false), true, 'the stream ends')

  const results = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { result: { content: string; podName: string } }).result)
  assert.deepEqual(results.map((r) => `${r.podName}:${r.content}`).sort(), ['wf-f-1:early', 'wf-f-1:more', 'wf-f-2:late'])
  assert.equal(results[0]?.content, 'early')
  await eventually(() => em.openWatches(/\/pods$/) === 0, 'the pod watch to close')
})

test('follow with the simulated controller: every step, then the end', async (t) => {
  const stack = await startStack(t)
  const runner = startRunner(stack.emulator, { stepMs: 30 })
  t.after(() => runner.stop())
  const say = (name: string, text: string) => ({ name, container: { image: 'busybox', command: ['echo', text] } })
  const created = await stack.json<{ metadata: { name: string } }>(`/api/v1/workflows/${NS}`, {
    method: 'POST',
    json: {
      workflow: {
        metadata: { generateName: 'steps-' },
        spec: { entrypoint: 'main', templates: [
          { name: 'main', steps: [[{ name: 'a', template: 'say-a' }], [{ name: 'b', template: 'say-b' }]] },
          say('say-a', 'first step'), say('say-b', 'second step'),
        ] },
      },
    },
  })
  assert.equal(created.status, 200)
  const got = await readEntries(stack, `/api/v1/workflows/${NS}/${created.body.metadata.name}/log?logOptions.follow=true`)
  assert.equal(got.status, 200)
  assert.deepEqual(got.results.map((r) => r.content), ['first step', 'second step'])
  await eventually(() => stack.emulator.openWatches(/\/pods$/) === 0, 'the pod watch to close')
})

test('follow ends when the workflow is deleted', async (t) => {
  const stack = await startStack(t)
  const em = stack.emulator
  await runningWorkflow(stack, 'wf-d', 1, 'alive', at(`${T}1.000Z`))
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-d/log?logOptions.follow=true`)
  const { reader } = await readUntil(res, (s) => s.includes('alive'))
  await eventually(() => em.openWatches(/\/workflows$/) >= 1 && em.openWatches(/\/pods$/) === 1, 'the watches')
  em.remove(WORKFLOWS, 'wf-d') // the pod stays Running: the stream must not wait for it
  for (;;) if ((await reader.read()).done) break
  await eventually(() => em.openWatches(/\/pods$/) === 0, 'the pod watch to close')
})

test('a client that disconnects stops every upstream watch and log read', async (t) => {
  const stack = await startStack(t)
  const em = stack.emulator
  await runningWorkflow(stack, 'wf-x', 2, 'hello', at(`${T}1.000Z`))
  const ours = /namespaces\/argo\/(pods|workflows)$/
  const ac = new AbortController()
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-x/log?logOptions.follow=true`, { signal: ac.signal })
  const { reader } = await readUntil(res, (s) => s.includes('hello'))
  await eventually(() => em.openWatches(ours) === 2, 'the pod and workflow watches')
  ac.abort()
  await reader.cancel().catch(() => {})
  await eventually(() => em.openWatches(ours) === 0, 'the watches to close')
  // the log reads were aborted too: a second client can read and end normally once the pods finish
  em.patch(PODS, 'wf-x-1', { status: { phase: 'Succeeded' } })
  em.patch(PODS, 'wf-x-2', { status: { phase: 'Succeeded' } })
  const after = await readEntries(stack, `/api/v1/workflows/${NS}/wf-x/log`)
  assert.deepEqual(after.results, [{ content: 'hello', podName: 'wf-x-1' }])
})

// Without detection the stream would wait forever: the timeout makes that a failure, not a hung run.
test('a paused apiserver ends a follow stream with Unavailable instead of a silent hang', { timeout: 60_000 }, async (t) => {
  const stack = await startStack(t, { args: ['--watch-outage-seconds', '1'] })
  const em = stack.emulator
  await runningWorkflow(stack, 'wf-p', 1, 'before', at(`${T}1.000Z`))
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-p/log?logOptions.follow=true`)
  const first = await readUntil(res, (s) => s.includes('before'))
  await eventually(() => em.openWatches(/\/pods$/) === 1, 'the pod watch')
  const resume = em.pause()
  t.after(resume)
  em.appendPodLog(NS, 'wf-p-1', 'main', 'held', new Date()) // the paused apiserver does not send it
  const paused = Date.now()
  let text = first.text
  const decoder = new TextDecoder()
  for (;;) {
    const { done, value } = await first.reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  assert.ok(Date.now() - paused < 10_000, `ended after ${Date.now() - paused} ms`)
  const last = JSON.parse(text.trim().split('\n').pop() as string) as { error?: { grpc_code: number; http_code: number; message: string } }
  assert.equal(last.error?.grpc_code, 14)
  assert.equal(last.error?.http_code, 503)
  assert.match(last.error?.message ?? '', /Kubernetes API is unavailable/)
  assert.ok(!text.includes('held'))
  // Once it answers again, the log can be read at once, the line held during the pause included: the server's own
  // watch may not have noticed the API is back yet, but this request was just answered by it.
  resume()
  em.patch(PODS, 'wf-p-1', { status: { phase: 'Succeeded' } })
  const again = await readEntries(stack, `/api/v1/workflows/${NS}/wf-p/log`)
  assert.equal(again.status, 200)
  assert.deepEqual(again.results.map((r) => r.content), ['before', 'held'], again.body)
})

test('a follow stream asked for while the apiserver is paused ends with a 503 once the outage is declared', async (t) => {
  const stack = await startStack(t, { args: ['--watch-outage-seconds', '1'] })
  await runningWorkflow(stack, 'wf-n', 1, 'before', at(`${T}1.000Z`))
  const resume = stack.emulator.pause()
  t.after(resume)
  // Its get of the workflow is never answered: the stream fails with the outage instead of waiting with no headers.
  const res = await within(8_000, stack.req(`/api/v1/workflows/${NS}/wf-n/log?logOptions.follow=true`), 'a log stream opened during the outage')
  assert.equal(res.status, 503)
  const body = JSON.parse(await res.text()) as { error?: { grpc_code: number; http_code: number } }
  assert.equal(body.error?.grpc_code, 14)
  assert.equal(body.error?.http_code, 503)
})

test("a log read is answered while the server's own watch is still out, since the API answers it", async (t) => {
  const stack = await startStack(t, { args: ['--watch-outage-seconds', '0.5'] })
  const em = stack.emulator
  await runningWorkflow(stack, 'wf-o', 1, 'done', at(`${T}1.000Z`))
  em.patch(PODS, 'wf-o-1', { status: { phase: 'Succeeded' } })
  // Lists and watches of workflows fail (the server's informer); gets and pods still answer (the log request).
  em.fault({ path: /workflows$/, status: 503, times: Infinity })
  em.dropWatches()
  for (const deadline = Date.now() + 10_000; ;) {
    const events = await openStream(stack, '/api/v1/workflow-events/argo')
    await events.ended()
    if ((events.messages().pop()?.error as { grpc_code?: number } | undefined)?.grpc_code === 14) break
    assert.ok(Date.now() < deadline, 'no outage declared')
  }
  const logs = await readEntries(stack, `/api/v1/workflows/${NS}/wf-o/log`)
  assert.equal(logs.status, 200)
  assert.deepEqual(logs.results, [{ content: 'done', podName: 'wf-o-1' }], logs.body)
})

test('a pod watch refused with HTTP 410 re-reads the pods and follows on: a pod created meanwhile is still picked up', async (t) => {
  const stack = await startStack(t)
  const em = stack.emulator
  await runningWorkflow(stack, 'wf-g', 1, 'early', at(`${T}1.000Z`))
  const res = await stack.req(`/api/v1/workflows/${NS}/wf-g/log?logOptions.follow=true`)
  const first = await readUntil(res, (s) => s.includes('early'))
  await eventually(() => em.openWatches(/\/pods$/) === 1, 'the pod watch')
  // Every version up to now is refused outright (410 as the answer, not as an event in the stream), as an API that
  // compacted them and serves watches without a cache does.
  createPod(em, 'other', 'marker', 'Pending')
  const upTo = Number(em.get(PODS, 'marker')?.metadata.resourceVersion)
  const versions = Array.from({ length: upTo }, (_, i) => i + 1).join('|')
  em.fault({ path: /\/pods$/, watch: true, status: 410, query: new RegExp(`resourceVersion=(${versions})(&|$)`), times: Infinity })
  em.dropWatches()
  createPod(em, 'wf-g', 'wf-g-2', 'Running')
  em.appendPodLog(NS, 'wf-g-2', 'main', 'late', new Date())
  let text = first.text
  const decoder = new TextDecoder()
  const until = Date.now() + 10_000 // before, the watch was asked for the refused version 8 times over ~20 s, then the stream failed
  while (!text.includes('late') && Date.now() < until) {
    const { done, value } = await within(until - Date.now(), first.reader.read(), "the new pod's line")
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  assert.match(text, /"content":"late","podName":"wf-g-2"/)
  await first.reader.cancel()
})
