import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'

// Spec §7.4: go-limiter's httplimit in front of every route, --api-rate-limit tokens per second per client.

const RFC1123_UTC = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} UTC$/

test('every answer carries the rate-limit headers; past the limit 429 text with Retry-After, before authentication', async (t) => {
  const s = await startStack(t, { args: ['--api-rate-limit', '5'] })
  // Within one second of the limiter's clock, so the five tokens are this second's.
  while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 20))
  const answers = []
  for (let i = 0; i < 7; i++) answers.push(await s.req('/api/v1/version', { token: i === 6 ? 'not-a-token' : undefined }))
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 429, 429])
  assert.deepEqual(answers.map((r) => r.headers.get('x-ratelimit-remaining')), ['4', '3', '2', '1', '0', '0', '0'])
  for (const r of answers) {
    assert.equal(r.headers.get('x-ratelimit-limit'), '5')
    assert.match(r.headers.get('x-ratelimit-reset') ?? '', RFC1123_UTC)
  }
  const refused = answers[5] as Response
  assert.equal(refused.headers.get('content-type'), 'text/plain; charset=utf-8')
  assert.equal(refused.headers.get('retry-after'), refused.headers.get('x-ratelimit-reset'))
  assert.equal(await refused.text(), 'Too Many Requests\n')
  // A bad token is refused by the limiter before it is looked at (401 otherwise).
  assert.equal(answers[6]?.status, 429)
  // The next second, tokens again; streams carry the headers too.
  await new Promise((r) => setTimeout(r, 1100))
  const stream = await s.req('/api/v1/workflow-events/argo?listOptions.timeoutSeconds=1')
  assert.equal(stream.status, 200)
  assert.equal(stream.headers.get('x-ratelimit-limit'), '5')
  await stream.text()
})

test('IP_KEY_FUNC_HEADERS: clients named by a header (behind a proxy) have buckets of their own', async (t) => {
  const s = await startStack(t, { args: ['--api-rate-limit', '2'], env: { IP_KEY_FUNC_HEADERS: 'X-Forwarded-For' } })
  while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 20))
  const as = (ip: string) => s.req('/api/v1/version', { headers: { 'x-forwarded-for': ip } }).then((r) => r.status)
  assert.deepEqual([await as('10.0.0.1'), await as('10.0.0.1'), await as('10.0.0.1'), await as('10.0.0.2')], [200, 200, 429, 200])
})
