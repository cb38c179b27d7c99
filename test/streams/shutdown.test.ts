import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { openStream, watchEvents } from '../harness/streams.js'
import { NS, at, runningWorkflow } from '../logs/helpers.js'

test('a server shutting down ends every open stream with Unavailable, not a connection cut mid-body', async (t) => {
  const s = await startStack(t)
  await runningWorkflow(s, 'wf-run', 1, 'first line', at('2026-03-04T05:06:01.000Z'))
  const streams = {
    sse: await openStream(s, '/api/v1/workflow-events/argo', { sse: true }),
    ndjson: await openStream(s, '/api/v1/workflow-events/argo'),
    events: await openStream(s, '/api/v1/stream/events/argo'),
    logs: await openStream(s, `/api/v1/workflows/${NS}/wf-run/log?logOptions.follow=true`),
  }
  t.after(() => Object.values(streams).forEach((r) => r.close()))
  await streams.sse.until(() => watchEvents(streams.sse).length > 0)
  await streams.ndjson.until(() => watchEvents(streams.ndjson).length > 0)
  await streams.logs.until((raw) => raw.includes('first line'))
  await s.stopServer()
  for (const [name, r] of Object.entries(streams)) {
    await r.ended()
    assert.equal(r.cut, false, `${name} was cut off: ${r.raw.slice(-200)}`)
    assert.deepEqual([name, r.messages().pop()?.error], [name, { grpc_code: 14, http_code: 503, message: 'the server is shutting down', http_status: 'Service Unavailable' }])
  }
})
