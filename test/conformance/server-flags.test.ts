import assert from 'node:assert/strict'
import https from 'node:https'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'

test('pages outside the API carry --x-frame-options, --access-control-allow-origin (a preflight is 204) and a CSP; /api/ carries none', async (t) => {
  const s = await startStack(t, { args: ['--access-control-allow-origin', 'https://ui.example'] })
  const page = await s.req('/workflows')
  assert.equal(page.status, 200)
  assert.equal(page.headers.get('x-frame-options'), 'DENY')
  assert.equal(page.headers.get('access-control-allow-origin'), 'https://ui.example')
  assert.equal(page.headers.get('content-security-policy'), "default-src 'self' 'unsafe-inline'; img-src 'self' data:")
  assert.equal(page.headers.get('strict-transport-security'), null, 'HSTS only when secure')
  const preflight = await s.req('/workflows', { method: 'OPTIONS' })
  assert.equal(preflight.status, 204)
  assert.deepEqual(['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers'].map((h) => preflight.headers.get(h)),
    ['https://ui.example', 'true', 'POST, GET, OPTIONS, PUT, DELETE', 'Content-Type, Authorization'])
  // The API never gets them (upstream's quirk, spec §8: CORS is the static handler's only).
  const api = await s.req('/api/v1/version')
  assert.equal(api.status, 200)
  for (const h of ['x-frame-options', 'access-control-allow-origin', 'content-security-policy']) assert.equal(api.headers.get(h), null, h)

  const plain = await startStack(t, { args: ['--x-frame-options', 'SAMEORIGIN'] })
  const other = await plain.req('/')
  assert.equal(other.headers.get('x-frame-options'), 'SAMEORIGIN')
  assert.equal(other.headers.get('access-control-allow-origin'), null)
})

test('--hsts: Strict-Transport-Security on pages when secure, not with --hsts=false, never on /api/', async (t) => {
  const headers = (url: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    https.get(url, { rejectUnauthorized: false }, (res) => {
      res.resume()
      resolve(res.headers)
    }).on('error', reject)
  })
  const s = await startStack(t, { args: ['--secure=true'] })
  assert.equal((await headers(`${s.url}/`))['strict-transport-security'], 'max-age=31536000')
  assert.equal((await headers(`${s.url}/api/v1/version`))['strict-transport-security'], undefined)
  const off = await startStack(t, { args: ['--secure=true', '--hsts=false'] })
  assert.equal((await headers(`${off.url}/`))['strict-transport-security'], undefined)
})

test('--log-format: logrus-style text lines by default, JSON lines with json; every line of the server, one format', async (t) => {
  const text: string[] = []
  const s = await startStack(t, { args: ['--loglevel', 'info'], logStream: { write: (l) => void text.push(l) } })
  await s.req('/api/v1/version')
  const request = text.find((l) => l.includes('msg="incoming request"'))
  // Keys after msg in order, as logrus sorts them; a value with quotes or spaces quoted as Go's %q.
  assert.match(request ?? text.join(''), /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=info msg="incoming request" req="\{\\"method\\":\\"GET\\",\\"url\\":\\"\/api\/v1\/version\\",\\"remoteAddress\\":\\"127.0.0.1\\"\}" reqId=req-1\n$/)
  assert.ok(text.every((l) => /^time="[^"]+" level=(debug|info|warning|error) msg="/.test(l)), text.join(''))

  const json: string[] = []
  const j = await startStack(t, { args: ['--loglevel', 'info', '--log-format', 'json'], logStream: { write: (l) => void json.push(l) } })
  await j.req('/api/v1/version')
  const parsed = json.map((l) => JSON.parse(l) as { level: number; msg: string; req?: { url?: string } })
  assert.ok(parsed.some((r) => r.msg === 'incoming request' && r.req?.url === '/api/v1/version' && r.level === 30), json.join(''))
})
