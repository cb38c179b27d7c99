import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { call, meta, wf, WatchStream, WF, WF_PATH } from './helpers.js'

let emu: Emulator
const ARGO = { ...WF, namespace: 'argo' }
before(async () => {
  emu = await startEmulator({ namespaces: ['argo'], historySize: 50, bookmarkIntervalMs: 50 })
})
after(() => emu.close())

function summary(events: { type: string; object: { metadata?: Record<string, unknown> } }[]): string[] {
  return events.map((e) => `${e.type}:${String(e.object.metadata?.name)}`)
}

test('watch without resourceVersion: synthetic ADDED for existing objects, then live events in RV order', async () => {
  emu.create(ARGO, wf('w1'))
  emu.create(ARGO, wf('w2'))
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true`)
  assert.equal(w.status, 200)
  assert.deepEqual(summary(await w.take(2)), ['ADDED:w1', 'ADDED:w2'])
  emu.patch(ARGO, 'w1', { spec: { x: 1 } })
  emu.remove(ARGO, 'w2')
  emu.create(ARGO, wf('w3'))
  const live = await w.take(3)
  assert.deepEqual(summary(live), ['MODIFIED:w1', 'DELETED:w2', 'ADDED:w3'])
  const rvs = live.map((e) => Number(e.object.metadata?.resourceVersion))
  assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b))
  w.close()
  emu.remove(ARGO, 'w1')
  emu.remove(ARGO, 'w3')
})

test('watch from a resourceVersion replays what happened after it', async () => {
  const start = meta((await call(emu, 'GET', WF_PATH)).json).resourceVersion
  emu.create(ARGO, wf('r1'))
  emu.patch(ARGO, 'r1', { metadata: { labels: { a: 'b' } } })
  emu.remove(ARGO, 'r1')
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=1&resourceVersion=${String(start)}`)
  assert.deepEqual(summary(await w.take(3)), ['ADDED:r1', 'MODIFIED:r1', 'DELETED:r1'])
  w.close()
})

test('label-selected watch: an object that stops matching is sent as DELETED, one that starts matching as ADDED', async () => {
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true&labelSelector=${encodeURIComponent('team=a')}`)
  emu.create(ARGO, wf('s1', { team: 'a' }))
  emu.create(ARGO, wf('s2', { team: 'b' }))
  emu.patch(ARGO, 's1', { metadata: { labels: { team: 'b' } } })
  emu.patch(ARGO, 's2', { metadata: { labels: { team: 'a' } } })
  emu.remove(ARGO, 's2')
  assert.deepEqual(summary(await w.take(4)), ['ADDED:s1', 'DELETED:s1', 'ADDED:s2', 'DELETED:s2'])
  w.close()
  emu.remove(ARGO, 's1')
})

test('watch on a single object via fieldSelector or the named path', async () => {
  const w1 = await WatchStream.open(emu, `${WF_PATH}?watch=true&fieldSelector=metadata.name%3Done`)
  emu.create(ARGO, wf('other'))
  emu.create(ARGO, wf('one'))
  assert.deepEqual(summary(await w1.take(1)), ['ADDED:one'])
  w1.close()
  const rv = String(emu.get(ARGO, 'one')?.metadata.resourceVersion)
  const w2 = await WatchStream.open(emu, `${WF_PATH}/one?watch=true&resourceVersion=${rv}`)
  emu.patch(ARGO, 'other', { spec: { y: 1 } })
  emu.patch(ARGO, 'one', { spec: { y: 1 } })
  assert.deepEqual(summary(await w2.take(1)), ['MODIFIED:one'])
  w2.close()
})

test('too old resourceVersion after compact() → ERROR 410 Expired, then the stream ends', async () => {
  emu.create(ARGO, wf('c1'))
  const old = String(emu.get(ARGO, 'c1')?.metadata.resourceVersion)
  emu.patch(ARGO, 'c1', { spec: { z: 1 } })
  emu.compact()
  const current = meta((await call(emu, 'GET', WF_PATH)).json).resourceVersion
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true&resourceVersion=${old}`)
  const [e] = await w.take(1)
  assert.deepEqual(e, {
    type: 'ERROR',
    object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${old} (${String(current)})`, reason: 'Expired', code: 410 },
  })
  assert.equal(await w.next(), undefined)
  // the current resourceVersion is still fine
  const ok = await WatchStream.open(emu, `${WF_PATH}?watch=true&resourceVersion=${String(current)}`)
  emu.patch(ARGO, 'c1', { spec: { z: 2 } })
  assert.deepEqual(summary(await ok.take(1)), ['MODIFIED:c1'])
  ok.close()
})

test('history is a bounded ring: overflowing historySize expires old resourceVersions', async () => {
  const start = String(meta((await call(emu, 'GET', WF_PATH)).json).resourceVersion)
  for (let i = 0; i < 60; i++) emu.patch(ARGO, 'c1', { spec: { i } })
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true&resourceVersion=${start}`)
  const [e] = await w.take(1)
  assert.equal(e?.type, 'ERROR')
  assert.equal(e?.object.code, 410)
})

test('bookmarks carry the current resourceVersion', async () => {
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true&allowWatchBookmarks=true&resourceVersion=${String(meta((await call(emu, 'GET', WF_PATH)).json).resourceVersion)}`)
  const [b] = await w.take(1)
  assert.equal(b?.type, 'BOOKMARK')
  assert.equal(b?.object.kind, 'Workflow')
  assert.equal(b?.object.apiVersion, 'argoproj.io/v1alpha1')
  const list = await call(emu, 'GET', WF_PATH)
  assert.equal(b?.object.metadata?.resourceVersion, meta(list.json).resourceVersion)
  w.close()
})

test('timeoutSeconds ends the watch', async () => {
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true&timeoutSeconds=1&resourceVersion=${String(meta((await call(emu, 'GET', WF_PATH)).json).resourceVersion)}`)
  await w.closed()
  assert.equal(w.ended, true)
  assert.equal(emu.openWatches(/workflows/), 0)
})

test('dropWatches() breaks every open watch; openWatches() counts them', async () => {
  const a = await WatchStream.open(emu, `${WF_PATH}?watch=true`)
  const b = await WatchStream.open(emu, '/api/v1/namespaces/argo/pods?watch=true')
  assert.equal(emu.openWatches(), 2)
  assert.equal(emu.openWatches(/pods/), 1)
  emu.dropWatches()
  await a.closed()
  await b.closed()
  assert.equal(emu.openWatches(), 0)
})

test('1,000 concurrent single-object watches each see only their object', async () => {
  const streams: WatchStream[] = []
  for (let i = 0; i < 1000; i++) streams.push(await WatchStream.open(emu, `${WF_PATH}?watch=true&fieldSelector=metadata.name%3Dmany-${i}`))
  assert.equal(emu.openWatches(), 1000)
  for (let i = 0; i < 1000; i++) emu.create(ARGO, wf(`many-${i}`))
  for (let i = 0; i < 1000; i++) {
    const [e] = await (streams[i] as WatchStream).take(1)
    assert.equal(e?.object.metadata?.name, `many-${i}`)
  }
  for (const s of streams) s.close()
})

test('fault injection: status errors, times, watch filter; requestCount', async () => {
  const before = emu.requestCount({ method: 'GET', path: /workflows$/, watch: false })
  const remove = emu.fault({ method: 'GET', path: /\/workflows$/, watch: false, status: 503, times: 2 })
  const r1 = await call(emu, 'GET', WF_PATH)
  assert.equal(r1.status, 503)
  assert.equal(r1.json.reason, 'ServiceUnavailable')
  assert.equal(r1.json.kind, 'Status')
  const w = await WatchStream.open(emu, `${WF_PATH}?watch=true&fieldSelector=metadata.name%3Dnone`)
  assert.equal(w.status, 200)
  w.close()
  assert.equal((await call(emu, 'GET', WF_PATH)).status, 503)
  assert.equal((await call(emu, 'GET', WF_PATH)).status, 200)
  remove()
  const stop = emu.fault({ path: /workflows/, status: 500, times: Infinity })
  assert.equal((await call(emu, 'GET', WF_PATH)).json.reason, 'InternalError')
  assert.equal((await call(emu, 'GET', WF_PATH)).status, 500)
  stop()
  emu.fault({ method: 'GET', path: /\/workflows$/, delayMs: 20 })
  assert.equal((await call(emu, 'GET', WF_PATH)).status, 200, 'a delay-only fault still answers')
  assert.equal((await call(emu, 'GET', WF_PATH)).status, 200)
  assert.equal(emu.requestCount({ method: 'GET', path: /workflows$/, watch: false }) - before, 7)
  assert.equal(emu.requestCount({ method: 'GET', path: /workflows$/, watch: true }) >= 1, true)
})
