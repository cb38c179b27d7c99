import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack, type Stack } from '../harness/stack.js'
import { openStream, watchEvents } from '../harness/streams.js'
import { brief, sseWatchFrames } from './sse.js'

// What a re-list after a 410 synthesizes: changes in version order, each deletion at the latest version it can have
// had (src/kube/diff.ts: a name deleted and created again ends created), each event with an id of its own, so a
// client cut off among them resumes exactly (Position in src/kube/hub-event.ts, spec §3).

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const seed = (s: Stack, name: string) =>
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' }, status: { phase: 'Running' } })
const rvOf = (o: { metadata: { resourceVersion?: string } }) => o.metadata.resourceVersion as string

test('delete and re-create of a name during a 410 gap: DELETED old before ADDED new, every synthesized event its own id; resume exact', async (t) => {
  const s = await startStack(t)
  const old = seed(s, 'same')
  seed(s, 'd1')
  seed(s, 'd2')
  seed(s, 'keep')
  const sse = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  // A client keyed by name, as the UI's list is: only the type, the name and the phase.
  const byName = await openStream(s, '/api/v1/workflow-events/argo?fields=result.type,result.object.metadata.name,result.object.status.phase')
  t.after(() => [sse, byName].forEach((r) => r.close()))
  await sse.until((raw) => sseWatchFrames(raw).length === 4)
  await byName.until(() => byName.messages().length === 4)
  const position = sseWatchFrames(sse.raw)[3]?.id as string

  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  s.emulator.remove(WF, 'same')
  const recreated = seed(s, 'same')
  s.emulator.remove(WF, 'd1')
  s.emulator.remove(WF, 'd2')
  const kept = s.emulator.patch(WF, 'keep', { status: { phase: 'Succeeded' } })
  s.emulator.compact()
  unblock()
  await sse.until((raw) => sseWatchFrames(raw).length === 9)
  await byName.until(() => byName.messages().length === 9)

  const gap = sseWatchFrames(sse.raw).slice(4)
  assert.deepEqual(gap.map((f) => `${f.type} ${f.name}`), ['DELETED same', 'ADDED same', 'DELETED d1', 'DELETED d2', 'MODIFIED keep'])
  // The deletions' own versions are unknown: each is placed at the latest it can have had. The old `same` before
  // the version of the object that took its name; d1 and d2 at the latest version no listed object has, one after
  // the other, each with an id of its own.
  const ids = gap.map((f) => f.id as string)
  assert.ok(Number(position) < Number(ids[0]) && Number(ids[0]) < Number(rvOf(recreated)), ids.join())
  const beforeKept = String(Number(rvOf(kept)) - 1)
  assert.deepEqual(ids.slice(1), [rvOf(recreated), beforeKept, `${beforeKept}.1`, rvOf(kept)])
  assert.equal(gap[0]?.uid, old.metadata.uid)
  assert.equal(gap[1]?.uid, recreated.metadata.uid)
  assert.deepEqual(byName.messages().slice(4).map((m) => m.result), [
    { type: 'DELETED', object: { metadata: { name: 'same' }, status: { phase: 'Running' } } },
    { type: 'ADDED', object: { metadata: { name: 'same' }, status: { phase: 'Running' } } },
    { type: 'DELETED', object: { metadata: { name: 'd1' }, status: { phase: 'Running' } } },
    { type: 'DELETED', object: { metadata: { name: 'd2' }, status: { phase: 'Running' } } },
    { type: 'MODIFIED', object: { metadata: { name: 'keep' }, status: { phase: 'Succeeded' } } },
  ])

  // Cut off after the first synthesized event: the rest, once each, then what follows.
  const fromFirst = await openStream(s, '/api/v1/workflow-events/argo', { sse: true, headers: { 'last-event-id': ids[0] as string } })
  // Cut off in the middle, reconnecting with a resourceVersion (NDJSON has no ids: e.g. the CLI).
  const fromSecond = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${ids[2]}`)
  t.after(() => [fromFirst, fromSecond].forEach((r) => r.close()))
  const marker = seed(s, 'marker')
  await fromFirst.until((raw) => raw.includes('"marker"'))
  await fromSecond.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(brief(sseWatchFrames(fromFirst.raw)), [...brief(gap.slice(1)), `ADDED marker@${rvOf(marker)}`])
  assert.deepEqual(watchEvents(fromSecond), ['DELETED d2', 'MODIFIED keep', 'ADDED marker'])
})

test('a snapshot taken right after synthesized deletions resumes after them, not before', async (t) => {
  const s = await startStack(t)
  seed(s, 'gone')
  seed(s, 'stays')
  const watcher = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  t.after(() => watcher.close())
  await watcher.until((raw) => sseWatchFrames(raw).length === 2)
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  s.emulator.remove(WF, 'gone')
  s.emulator.compact()
  unblock()
  await watcher.until((raw) => sseWatchFrames(raw).length === 3)
  const deletedId = sseWatchFrames(watcher.raw)[2]?.id as string
  assert.ok(Number(deletedId) > Number(sseWatchFrames(watcher.raw)[1]?.id), deletedId)
  // A fresh snapshot now: its last event carries the position after the deletion.
  const fresh = await openStream(s, '/api/v1/workflow-events/argo', { sse: true })
  await fresh.until((raw) => sseWatchFrames(raw).length === 1)
  fresh.close()
  const snapshot = sseWatchFrames(fresh.raw)
  assert.deepEqual(brief(snapshot), [`ADDED stays@${deletedId}`])
  const resumed = await openStream(s, '/api/v1/workflow-events/argo', { sse: true, headers: { 'last-event-id': deletedId } })
  t.after(() => resumed.close())
  const marker = seed(s, 'marker')
  await resumed.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(brief(sseWatchFrames(resumed.raw)), [`ADDED marker@${rvOf(marker)}`])
})

test('a deletion a re-list found carries the version it is placed at: an NDJSON client resuming from it gets nothing again', async (t) => {
  const s = await startStack(t)
  seed(s, 'gone')
  seed(s, 'keep')
  const nd = await openStream(s, '/api/v1/workflow-events/argo')
  await nd.until(() => nd.messages().length === 2)
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  s.emulator.patch(WF, 'keep', { status: { phase: 'Succeeded' } })
  s.emulator.remove(WF, 'gone')
  s.emulator.compact()
  unblock()
  await nd.until(() => nd.messages().length === 4)
  nd.close()
  type Frame = { type: string; object: { metadata: { name: string; resourceVersion: string }; status?: { phase?: string } } }
  const [modified, deleted] = nd.messages().slice(2).map((m) => m.result as Frame)
  assert.deepEqual([modified?.type, modified?.object.metadata.name, deleted?.type, deleted?.object.metadata.name], ['MODIFIED', 'keep', 'DELETED', 'gone'])
  // The body it had (Running), at the version of its place: after the MODIFIED, as the deletion came after it.
  assert.equal(deleted?.object.status?.phase, 'Running')
  assert.ok(Number(deleted?.object.metadata.resourceVersion) > Number(modified?.object.metadata.resourceVersion), JSON.stringify(deleted?.object.metadata))
  // Before, it carried its last version seen (before the MODIFIED): a resume from it sent both again.
  const resumed = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${deleted?.object.metadata.resourceVersion}`)
  t.after(() => resumed.close())
  const marker = seed(s, 'marker')
  await resumed.until((raw) => raw.includes('"marker"'))
  assert.deepEqual(watchEvents(resumed), ['ADDED marker'])
  assert.equal((resumed.messages()[0]?.result as Frame).object.metadata.resourceVersion, rvOf(marker))
})

test('deletions a re-list placed at one version carry their ids as resourceVersions: an NDJSON client resumes exactly after any of them', async (t) => {
  const s = await startStack(t)
  for (const name of ['d1', 'd2', 'd3']) seed(s, name)
  const nd = await openStream(s, '/api/v1/workflow-events/argo')
  await nd.until(() => nd.messages().length === 3)
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  for (const name of ['d1', 'd2', 'd3']) s.emulator.remove(WF, name)
  s.emulator.compact()
  unblock()
  await nd.until(() => nd.messages().length === 6)
  nd.close()
  type Frame = { type: string; object: { metadata: { name: string; resourceVersion: string } } }
  const deleted = nd.messages().slice(3).map((m) => m.result as Frame)
  const [v1, v2, v3] = deleted.map((d) => d.object.metadata.resourceVersion)
  // All three at the latest version they can have had, one after the other (src/kube/diff.ts).
  assert.deepEqual(deleted.map((d) => `${d.type} ${d.object.metadata.name}`), ['DELETED d1', 'DELETED d2', 'DELETED d3'])
  assert.deepEqual([v2, v3], [`${v1}.1`, `${v1}.2`])
  // Before, all three carried v1: a client that had all three got the last two again.
  seed(s, 'marker')
  for (const [from, expected] of [[v3, []], [v2, ['DELETED d3']], [v1, ['DELETED d2', 'DELETED d3']]] as const) {
    const resumed = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${from}`)
    t.after(() => resumed.close())
    await resumed.until((raw) => raw.includes('"marker"'))
    assert.deepEqual(watchEvents(resumed), [...expected, 'ADDED marker'], `from ${from}`)
  }
})

test('after a re-list, a watch from the list\'s version (list, then watch) resumes at once: the re-list moved the position there', async (t) => {
  // Bookmarks as rare as an apiserver's (one a minute): nothing else moves the position on a quiet scope.
  const s = await startStack(t, { bookmarkIntervalMs: 60_000 })
  seed(s, 'one')
  const first = await openStream(s, '/api/v1/workflow-events/argo')
  await first.until(() => first.messages().length === 1)
  first.close()
  const unblock = s.emulator.fault({ path: /workflows/, watch: true, status: 503, times: Infinity })
  s.emulator.dropWatches()
  s.emulator.patch(WF, 'one', { status: { phase: 'Succeeded' } })
  // Something else in the cluster moves its version past the last workflow change.
  s.emulator.create({ group: '', resource: 'configmaps', namespace: 'argo' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere' } })
  s.emulator.compact()
  unblock()
  let listed = ''
  for (const end = Date.now() + 10_000; !listed;) {
    const list = await s.json<{ metadata: { resourceVersion: string }; items: { status: { phase?: string } }[] }>('/api/v1/workflows/argo')
    if (list.body.items[0]?.status.phase === 'Succeeded') listed = list.body.metadata.resourceVersion
    assert.ok(Date.now() < end, 'never re-listed')
    await new Promise((r) => setTimeout(r, 50))
  }
  const watch = await openStream(s, `/api/v1/workflow-events/argo?listOptions.resourceVersion=${listed}`)
  t.after(() => watch.close())
  const marker = seed(s, 'marker')
  await watch.until((raw) => raw.includes('"marker"'))
  // Before, the position stayed at the last workflow change, below the list's version: the client waited 3 s for a
  // bookmark that did not come, then got a snapshot (ADDED one) before the marker.
  assert.deepEqual(watchEvents(watch), ['ADDED marker'])
  assert.equal((watch.messages()[0]?.result as { object: { metadata: { resourceVersion: string } } }).object.metadata.resourceVersion, rvOf(marker))
})
