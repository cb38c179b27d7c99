import assert from 'node:assert/strict'
import { test } from 'node:test'
import { onReplica, startStack, type Stack } from '../harness/stack.js'
import { openStream } from '../harness/streams.js'
import { brief, sseWatchFrames } from './sse.js'

// A replica whose watch fails and then answers 410 re-lists and publishes the deletions it finds. The other replica
// saw those deletions live, at their own versions, and a client may move between them with the last id it had.

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const ARGO = '/api/v1/workflow-events/argo'
const seed = (s: Stack, name: string) =>
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' }, status: { phase: 'Running' } })

async function until(what: string, test: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !(await test());) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const names = async (s: Stack) => ((await s.json<{ items?: { metadata: { name: string } }[] }>('/api/v1/workflows/argo')).body.items ?? []).map((w) => w.metadata.name).sort()

test('a deletion a re-list found reaches a client resuming from the other replica\'s id taken before it; a name created again ends with its new object', async (t) => {
  const s = await startStack(t)
  for (const name of ['keep', 'gone', 'again']) seed(s, name)
  await until('A watching', () => s.emulator.openWatches(/workflows/) === 1)
  // The second replica lists, but its watch is refused until the 410 below; the first's watch stays open.
  const refuse = s.emulator.fault({ method: 'GET', watch: true, path: /workflows$/, status: 500, times: Infinity })
  const b = onReplica(s, await s.startReplica())
  assert.deepEqual(await names(b), ['again', 'gone', 'keep'])

  const kept = s.emulator.patch(WF, 'keep', { metadata: { labels: { n: '1' } } })
  // A client of the first replica takes the id of that change, and goes.
  const onA = await openStream(s, ARGO, { sse: true })
  await onA.until((raw) => sseWatchFrames(raw).length === 3)
  const last = sseWatchFrames(onA.raw).at(-1)
  assert.equal(last?.id, kept.metadata.resourceVersion)
  onA.close()
  // While it is away: one workflow deleted, another deleted and created again under its name.
  s.emulator.remove(WF, 'gone')
  s.emulator.remove(WF, 'again')
  const again = seed(s, 'again')
  refuse()
  s.emulator.fault({ method: 'GET', watch: true, path: /workflows$/, status: 410, times: 1 })
  await until('the second replica re-listed', async () => (await names(b)).join() === 'again,keep')

  const onB = await openStream(b, ARGO, { sse: true, headers: { 'last-event-id': last?.id as string } })
  t.after(() => onB.close())
  await onB.until((raw) => sseWatchFrames(raw).length === 3)
  const frames = sseWatchFrames(onB.raw)
  // Before, the re-list placed both deletions right after the second replica's old position, below the client's
  // id: it resumed past them, and kept `gone` and the old `again` for good.
  assert.deepEqual(frames.map((f) => `${f.type} ${f.name}`), ['DELETED gone', 'DELETED again', 'ADDED again'])
  assert.equal(frames[2]?.uid, again.metadata.uid)
  // Ids still grow, each its own, and no deletion sits above the version of the object that took its name.
  const ids = frames.map((f) => f.id as string)
  assert.equal(new Set(ids).size, 3)
  assert.ok(Number(ids[1]) < Number(again.metadata.resourceVersion), brief(frames).join())
  assert.equal(ids[2], again.metadata.resourceVersion)
  // And a client that moves back with the second replica's last id gets nothing again from the first.
  const back = await openStream(s, ARGO, { sse: true, headers: { 'last-event-id': ids[2] as string } })
  t.after(() => back.close())
  const next = s.emulator.patch(WF, 'keep', { metadata: { labels: { n: '2' } } })
  await back.until((raw) => sseWatchFrames(raw).length === 1)
  assert.deepEqual(brief(sseWatchFrames(back.raw)), [`MODIFIED keep@${next.metadata.resourceVersion}`])
})
