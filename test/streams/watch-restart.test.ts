import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack, type Stack } from '../harness/stack.js'
import { openStream, watchEvents } from '../harness/streams.js'
import { brief, sseWatchFrames } from './sse.js'

// A client reconnecting with a Last-Event-ID older than what the server's history holds (the server restarted, or
// it is a replica started after the client's last event) is told what changed since, from Kubernetes' own state at
// that version (a list with resourceVersionMatch=Exact), not sent everything again; a fresh snapshot only once
// Kubernetes no longer has that version either.

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const seed = (s: Stack, name: string, labels: Record<string, string> = {}) =>
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, labels }, spec: { entrypoint: 'm' }, status: { phase: 'Running' } })
const rvOf = (o: { metadata: { resourceVersion?: string } }) => o.metadata.resourceVersion as string
const ARGO = '/api/v1/workflow-events/argo'
const TEAM_A = `${ARGO}?listOptions.labelSelector=${encodeURIComponent('team=a')}`

test('resuming after a restart: only what changed while no server ran, as each client\'s selector sees it; then live events', async (t) => {
  const s = await startStack(t)
  seed(s, 'kept')
  seed(s, 'changed')
  seed(s, 'gone', { team: 'x' })
  seed(s, 'leaving', { team: 'a' })
  seed(s, 'joining', { team: 'b' })
  const all = await openStream(s, ARGO, { sse: true })
  const teamA = await openStream(s, TEAM_A, { sse: true })
  await all.until((raw) => sseWatchFrames(raw).length === 5)
  await teamA.until((raw) => sseWatchFrames(raw).length === 1)
  const lastAll = sseWatchFrames(all.raw)[4]?.id as string
  const lastTeamA = sseWatchFrames(teamA.raw)[0]?.id as string
  assert.match(lastAll, /^\d+$/)

  await s.stopServer()
  await all.ended()
  await teamA.ended()
  const changed = s.emulator.patch(WF, 'changed', { status: { phase: 'Succeeded' } })
  s.emulator.remove(WF, 'gone')
  const left = s.emulator.patch(WF, 'leaving', { metadata: { labels: { team: 'b' } } })
  const joined = s.emulator.patch(WF, 'joining', { metadata: { labels: { team: 'a' } } })
  const fresh = seed(s, 'fresh', { team: 'a' })
  await s.restartServer()

  const all2 = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': lastAll } })
  const teamA2 = await openStream(s, TEAM_A, { sse: true, headers: { 'last-event-id': lastTeamA } })
  t.after(() => [all2, teamA2].forEach((r) => r.close()))
  await all2.until((raw) => sseWatchFrames(raw).length === 5)
  await teamA2.until((raw) => sseWatchFrames(raw).length === 3)
  const position = sseWatchFrames(all2.raw)[4]?.id as string
  assert.equal(position, rvOf(fresh))
  // By version (a deletion at the latest version it can have had: here its own, src/kube/diff.ts); nothing for
  // `kept`; only the last carries an id.
  assert.deepEqual(brief(sseWatchFrames(all2.raw)), ['MODIFIED changed', 'DELETED gone', 'MODIFIED leaving', 'MODIFIED joining', `ADDED fresh@${position}`])
  const [modified, gone] = sseWatchFrames(all2.raw)
  assert.deepEqual(gone?.result.object && (gone.result.object as { status?: unknown }).status, { phase: 'Running' }, 'a deletion carries the body it had')
  assert.equal(modified?.resourceVersion, rvOf(changed))
  assert.deepEqual((modified?.result.object as { status?: unknown }).status, { phase: 'Succeeded' })
  // `leaving` left team=a: DELETED, at its new version; `joining` entered it: ADDED.
  const seenByA = sseWatchFrames(teamA2.raw)
  assert.deepEqual(brief(seenByA), ['DELETED leaving', 'ADDED joining', `ADDED fresh@${position}`])
  assert.equal(seenByA[0]?.resourceVersion, rvOf(left))
  assert.equal(seenByA[1]?.resourceVersion, rvOf(joined))

  // Live events follow, once each; and the new position resumes from this server's own history.
  const marker = seed(s, 'marker', { team: 'a' })
  await all2.until((raw) => raw.includes('"marker"'))
  await teamA2.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(brief(sseWatchFrames(all2.raw).slice(5)), [`ADDED marker@${rvOf(marker)}`])
  assert.deepEqual(brief(sseWatchFrames(teamA2.raw).slice(3)), [`ADDED marker@${rvOf(marker)}`])
  const again = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': position } })
  t.after(() => again.close())
  await again.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(brief(sseWatchFrames(again.raw)), [`ADDED marker@${rvOf(marker)}`])
})

test('a reconnect storm after a restart shares one list of the past version; a version Kubernetes no longer has gets a fresh snapshot', async (t) => {
  const s = await startStack(t)
  seed(s, 'a')
  seed(s, 'b')
  const first = await openStream(s, ARGO, { sse: true })
  await first.until((raw) => sseWatchFrames(raw).length === 2)
  const last = sseWatchFrames(first.raw)[1]?.id as string
  await s.stopServer()
  s.emulator.remove(WF, 'a')
  await s.restartServer()

  const pastLists = () => s.emulator.requestCount({ method: 'GET', path: /\/namespaces\/argo\/workflows$/, watch: false })
  const before = pastLists()
  const unslow = s.emulator.fault({ path: /\/namespaces\/argo\/workflows$/, method: 'GET', watch: false, delayMs: 300 })
  t.after(unslow)
  const storm = await Promise.all(Array.from({ length: 8 }, () => openStream(s, ARGO, { sse: true, headers: { 'last-event-id': last } })))
  t.after(() => storm.forEach((r) => r.close()))
  for (const r of storm) await r.until((raw) => sseWatchFrames(raw).length === 1)
  assert.equal(pastLists() - before, 1, 'one list for eight clients')
  for (const r of storm) assert.deepEqual(brief(sseWatchFrames(r.raw)), [`DELETED a@${sseWatchFrames(r.raw)[0]?.id}`])

  // Compacted: Kubernetes no longer has that version, so a fresh snapshot, as before this existed.
  await s.stopServer()
  s.emulator.compact()
  await s.restartServer()
  const late = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': last } })
  t.after(() => late.close())
  await late.until((raw) => sseWatchFrames(raw).length === 1)
  assert.deepEqual(brief(sseWatchFrames(late.raw)).map((b) => b.replace(/@.*/, '')), ['ADDED b'])
})

test('clients resuming from more distinct versions than are read at once take turns, each told of the deletion', async (t) => {
  const s = await startStack(t)
  for (let i = 0; i < 4; i++) seed(s, `w${i}`)
  // Three positions clients had, all older than what the next server will hold.
  const ids = [1, 2, 3].map((i) => rvOf(s.emulator.patch(WF, `w${i}`, { status: { progress: `${i}/1` } })))
  await s.stopServer()
  s.emulator.remove(WF, 'w0')
  await s.restartServer()
  t.after(s.emulator.fault({ path: /\/namespaces\/argo\/workflows$/, method: 'GET', watch: false, delayMs: 300, times: 3 }))
  const clients = await Promise.all(ids.map((id) => openStream(s, ARGO, { sse: true, headers: { 'last-event-id': id } })))
  t.after(() => clients.forEach((r) => r.close()))
  for (const c of clients) await c.until((raw) => raw.includes('"w0"'))
  // Each is told of what changed after its own position and of w0's deletion (not sent a snapshot without it), in
  // version order: w0 went after the changes.
  const seen = clients.map((c) => brief(sseWatchFrames(c.raw)).map((b) => b.replace(/@.*/, '')))
  assert.deepEqual(seen, [
    ['MODIFIED w2', 'MODIFIED w3', 'DELETED w0'],
    ['MODIFIED w3', 'DELETED w0'],
    ['DELETED w0'],
  ])
})

test('a client waiting for the past version when the server shuts down gets the shutdown error', async (t) => {
  const s = await startStack(t)
  seed(s, 'w')
  const id = rvOf(s.emulator.patch(WF, 'w', { status: { progress: '1/1' } }))
  await s.stopServer()
  s.emulator.patch(WF, 'w', { status: { progress: '2/2' } })
  await s.restartServer()
  t.after(s.emulator.fault({ path: /\/namespaces\/argo\/workflows$/, method: 'GET', watch: false, delayMs: 5_000 }))
  const waiting = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': id } })
  t.after(() => waiting.close())
  await new Promise((r) => setTimeout(r, 300))
  await s.stopServer()
  await waiting.ended()
  assert.equal(waiting.cut, false, 'ended, not cut off')
  assert.match(waiting.raw, /"grpc_code":14.*the server is shutting down/)
})

test('an apiserver that ignores resourceVersionMatch (before 1.19): its current list is not taken for the past; a fresh snapshot', async (t) => {
  const s = await startStack(t, { resourceVersionMatch: false })
  seed(s, 'kept')
  const id = rvOf(seed(s, 'gone'))
  await s.stopServer()
  s.emulator.remove(WF, 'gone')
  await s.restartServer()
  const resumed = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': id } })
  t.after(() => resumed.close())
  await resumed.until((raw) => sseWatchFrames(raw).length === 1)
  // Diffed with the current list, it would have said nothing at all: a snapshot is at least complete.
  assert.deepEqual(brief(sseWatchFrames(resumed.raw)).map((b) => b.replace(/@.*/, '')), ['ADDED kept'])
})

test('resuming after a restart, a deletion carries a version past the client\'s, so an NDJSON client resumes after it', async (t) => {
  const s = await startStack(t)
  seed(s, 'a')
  const gone = seed(s, 'gone')
  const last = rvOf(gone)
  await s.stopServer()
  s.emulator.remove(WF, 'gone')
  await s.restartServer()
  const nd = await openStream(s, `${ARGO}?listOptions.resourceVersion=${last}`)
  t.after(() => nd.close())
  await nd.until(() => nd.messages().length === 1)
  const deleted = (nd.messages()[0]?.result as { type: string; object: { metadata: { name: string; resourceVersion: string } } })
  assert.deepEqual([deleted.type, deleted.object.metadata.name], ['DELETED', 'gone'])
  // Before, it was placed at most at the scope's newest object (a), below the version the client resumed from.
  assert.ok(Number(deleted.object.metadata.resourceVersion) > Number(last), deleted.object.metadata.resourceVersion)
  const marker = seed(s, 'marker')
  const again = await openStream(s, `${ARGO}?listOptions.resourceVersion=${deleted.object.metadata.resourceVersion}`)
  t.after(() => again.close())
  await again.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(watchEvents(again), ['ADDED marker'])
  assert.equal((again.messages()[0]?.result as { object: { metadata: { resourceVersion: string } } }).object.metadata.resourceVersion, rvOf(marker))
})

test('a list of the past version that fails on the way (a busy etcd: 500, 503, 429) is asked again: the diff, not a snapshot', async (t) => {
  const s = await startStack(t)
  seed(s, 'kept')
  const last = rvOf(seed(s, 'gone'))
  await s.stopServer()
  s.emulator.remove(WF, 'gone')
  await s.restartServer()
  const exact = { path: /\/namespaces\/argo\/workflows$/, method: 'GET', watch: false, query: /resourceVersionMatch=Exact/ }
  for (const status of [500, 503, 429]) t.after(s.emulator.fault({ ...exact, status }))
  const resumed = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': last } })
  t.after(() => resumed.close())
  await resumed.until((raw) => sseWatchFrames(raw).length === 1)
  assert.deepEqual(brief(sseWatchFrames(resumed.raw)).map((b) => b.replace(/@.*/, '')), ['DELETED gone'])
  assert.equal(s.emulator.requestCount({ method: 'GET', path: exact.path, watch: false }) >= 4, true)
})
