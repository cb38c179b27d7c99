import assert from 'node:assert/strict'
import https from 'node:https'
import http2 from 'node:http2'
import net from 'node:net'
import { test, type TestContext } from 'node:test'
import { aWorkflow, startStack, type Stack } from '../harness/stack.js'
import { sseWatchFrames } from './sse.js'
import { NS, at, runningWorkflow } from '../logs/helpers.js'

// HTTP/1.1 and HTTP/2 on one port, as upstream (spec §0: "HTTP/1.1, h2 (ALPN) and h2c are enabled"; its e2e
// ReadinessProbe GETs over both). Over HTTP/2 a browser's many watches share one connection.

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }

interface H2Response { status: number; headers: http2.IncomingHttpHeaders; body: string }

function connect(t: TestContext, s: Stack, settings?: http2.Settings): http2.ClientHttp2Session {
  const session = http2.connect(s.url, { rejectUnauthorized: false, settings })
  session.on('error', () => {})
  t.after(() => session.destroy())
  return session
}

function h2request(session: http2.ClientHttp2Session, s: Stack, path: string, init: { method?: string; body?: unknown } = {}): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':path': path, ':method': init.method ?? 'GET', authorization: `Bearer ${s.emulator.adminToken}` }
    const st = session.request(headers)
    let head: http2.IncomingHttpHeaders = {}
    let body = ''
    st.on('response', (h) => { head = h })
    st.setEncoding('utf8')
    st.on('data', (d: string) => { body += d })
    st.on('end', () => resolve({ status: Number(head[':status']), headers: head, body }))
    st.on('error', reject)
    st.end(init.body === undefined ? undefined : JSON.stringify(init.body))
  })
}

/** An SSE watch on the session, its bytes collected in `raw`. */
function h2watch(session: http2.ClientHttp2Session, s: Stack, path: string) {
  const st = session.request({ ':path': path, authorization: `Bearer ${s.emulator.adminToken}`, accept: 'text/event-stream' })
  const w = { raw: '', status: 0, ended: false, stream: st }
  st.on('response', (h) => { w.status = Number(h[':status']) })
  st.setEncoding('utf8')
  st.on('data', (d: string) => { w.raw += d })
  st.on('end', () => { w.ended = true })
  st.on('error', () => { w.ended = true })
  return w
}

async function until(test: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('plain port: HTTP/1.1 and HTTP/2 with prior knowledge (h2c) side by side; unary calls and bodies over HTTP/2', async (t) => {
  const s = await startStack(t)
  const session = connect(t, s)
  const version = await h2request(session, s, '/api/v1/version')
  assert.equal(version.status, 200)
  assert.equal((JSON.parse(version.body) as { version?: string }).version, 'v0.1.0')
  assert.equal(version.headers['grpc-metadata-argo-version'], 'v0.1.0')
  const created = await h2request(session, s, '/api/v1/workflows/argo', { method: 'POST', body: { workflow: aWorkflow({ name: 'over-h2' }) } })
  assert.equal(created.status, 200, created.body)
  assert.equal((JSON.parse(created.body) as { metadata: { name: string } }).metadata.name, 'over-h2')
  // Errors keep the contract's shape over HTTP/2 too.
  const missing = await h2request(session, s, '/api/v1/workflows/argo/nope')
  assert.equal(missing.status, 404)
  assert.equal((JSON.parse(missing.body) as { code: number }).code, 5)
  const bad = await h2request(session, s, '/api/v1/workflows/argo', { method: 'POST', body: 'not an object' })
  assert.equal(bad.status, 400)
  // HTTP/1.1 on the same port, meanwhile.
  const h1 = await s.json<{ items: { metadata: { name: string } }[] }>('/api/v1/workflows/argo')
  assert.equal(h1.status, 200)
  assert.deepEqual(h1.body.items.map((w) => w.metadata.name), ['over-h2'])
})

test('a dozen SSE watches on one HTTP/2 connection each get every event; a slow one is closed, its neighbours keep going', async (t) => {
  const s = await startStack(t, { args: ['--stream-buffer-bytes', String(512 * 1024)] })
  // A connection window as browsers keep (Chrome's is 15 MB): one stream's flow control then holds back only that
  // stream, and what waits for it on the server is what its client has not taken, as with a socket's buffer.
  const session = connect(t, s, { initialWindowSize: 256 * 1024 })
  await new Promise((r) => session.once('connect', r))
  session.setLocalWindowSize(64 * 1024 * 1024)
  const watches = Array.from({ length: 12 }, () => h2watch(session, s, '/api/v1/workflow-events/argo'))
  const slow = h2watch(session, s, '/api/v1/workflow-events/argo')
  slow.stream.pause()
  await until(() => watches.every((w) => w.status === 200) && slow.status === 200, 'the watches to open')
  const message = 'x'.repeat(10_000)
  const N = 150
  // In batches, as a controller writes: readers that keep up are never more than a batch behind.
  for (let i = 0; i < N; i++) {
    s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `w${i}` }, spec: { entrypoint: 'm' }, status: { message } })
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 20))
  }
  const count = (raw: string) => raw.split('data: {"result"').length - 1
  await until(() => watches.every((w) => count(w.raw) === N), 'every event on every watch', 30_000)
  for (const w of watches) assert.deepEqual(sseWatchFrames(w.raw).map((f) => f.name), Array.from({ length: N }, (_, i) => `w${i}`))
  assert.ok(watches.every((w) => !w.ended && !w.raw.includes('"error"')))
  // 150 × 10 KB against a window of 256 KB and a bound of 512 KB: the slow stream is closed with code 8.
  slow.stream.resume()
  await until(() => slow.ended, 'the slow stream to end')
  assert.match(slow.raw, /"grpc_code":8/)
  assert.ok(count(slow.raw) < N)
  // The connection itself is fine: new requests on it work.
  assert.equal((await h2request(session, s, '/api/v1/version')).status, 200)
})

test('TLS: ALPN offers h2 and http/1.1 on one port; shutting down ends HTTP/2 streams with the shutdown error', async (t) => {
  const s = await startStack(t, { args: ['--secure=true'] })
  assert.match(s.url, /^https:/)
  const session = connect(t, s)
  await until(() => session.alpnProtocol !== undefined, 'the TLS handshake')
  assert.equal(session.alpnProtocol, 'h2')
  assert.equal((await h2request(session, s, '/api/v1/version')).status, 200)
  const h1 = await new Promise<{ status: number; version: string }>((resolve, reject) => {
    https.get(`${s.url}/api/v1/version`, { rejectUnauthorized: false, headers: { authorization: `Bearer ${s.emulator.adminToken}` } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion }))
    }).on('error', reject)
  })
  assert.deepEqual(h1, { status: 200, version: '1.1' })

  const watch = h2watch(session, s, '/api/v1/workflow-events/argo')
  await until(() => watch.status === 200, 'the watch to open')
  await s.stopServer() // resolves only once every connection and session is closed
  await until(() => watch.ended, 'the watch to end')
  assert.match(watch.raw, /the server is shutting down/)
})

test('plain port: a first packet too short to tell (a byte at a time) waits for more, and nothing else waits on it', async (t) => {
  const s = await startStack(t)
  const { hostname, port } = new URL(s.url)
  const open = () => {
    const c = net.connect({ host: hostname, port: Number(port) })
    c.on('error', () => {})
    t.after(() => c.destroy())
    let got = ''
    c.on('data', (d: Buffer) => { got += d.toString('latin1') })
    return { c, got: () => got }
  }
  const pause = () => new Promise((r) => setTimeout(r, 200))
  const auth = `Authorization: Bearer ${s.emulator.adminToken}\r\n`
  // "P" could start "PRI * HTTP/2.0" or "POST": undecided, the connection waits, and the server serves others.
  const post = open()
  post.c.write('P')
  const silent = open() // connected, sends nothing
  await pause()
  assert.equal((await s.json('/api/v1/version')).status, 200)
  post.c.write(`OST /api/v1/workflows/argo/lint HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nConnection: close\r\n\r\n{}`)
  await until(() => post.got().startsWith('HTTP/1.1 400'), 'the HTTP/1.1 answer to the split POST')
  // The HTTP/2 preface a byte at a time: HTTP/2 once it is clear.
  const h2 = open()
  for (const b of 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') {
    h2.c.write(b)
    if (h2.got() === '') await new Promise((r) => setTimeout(r, 5))
  }
  h2.c.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])) // an empty SETTINGS frame
  // The server's own SETTINGS frame: type 4 at byte 3.
  await until(() => h2.got().length >= 9 && h2.got().charCodeAt(3) === 4, 'the HTTP/2 SETTINGS frame')
  // Shutting down closes the connection that never said anything, rather than waiting for it.
  await s.stopServer()
  await until(() => silent.c.destroyed || silent.c.readableEnded, 'the silent connection to be closed')
})

test('plain port: an HTTP/2 client that goes away (FIN) ends its streams and their upstream reads', async (t) => {
  const s = await startStack(t)
  await runningWorkflow(s, 'wf-h2', 1, 'hello', at('2026-03-04T05:06:01.000Z'))
  const { hostname, port } = new URL(s.url)
  const socket = net.connect({ host: hostname, port: Number(port) })
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  const session = http2.connect(s.url, { createConnection: () => socket })
  session.on('error', () => {})
  const follow = h2watch(session, s, `/api/v1/workflows/${NS}/wf-h2/log?logOptions.follow=true`)
  await until(() => follow.raw.includes('hello'), 'the log line')
  const podWatches = () => s.emulator.openWatches(/\/pods$/)
  await until(() => podWatches() === 1, "the follow's pod watch")
  // The client's side of the connection ends (a tab closed, a process gone): the server ends its side too,
  // and with it the stream and the Kubernetes reads made for it (an HTTP/1.1 server's connections stay half-open).
  socket.end()
  await until(() => podWatches() === 0 && socket.destroyed, 'the pod watch to be released and the connection closed')
})
