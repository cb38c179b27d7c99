import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { parseConfig } from '../../src/config/parse.js'
import { createServer } from '../../src/server.js'
import { ownPostgres, sqlQuery } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, finished, liveStatus, STATUS, until, WF } from './helpers.js'

const FINALIZER = 'workflows.argoproj.io/archive'
const CM = { group: '', resource: 'configmaps', namespace: 'argo' }

/** A workflow the controller is running, written straight into the emulator. */
const running = (s: Pick<Awaited<ReturnType<typeof startStack>>, 'emulator'>, name: string, labels: Record<string, string> = {}) => s.emulator.create(WF, {
  apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, labels: { 'workflows.argoproj.io/completed': 'false', ...labels } },
  spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
  status: { phase: 'Running', startedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') },
})
const finish = (s: Pick<Awaited<ReturnType<typeof startStack>>, 'emulator'>, name: string) => s.emulator.patch(WF, name, {
  metadata: { labels: { 'workflows.argoproj.io/completed': 'true' } },
  status: { phase: 'Succeeded', finishedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') },
})

/** A server with its own Postgres, which is then stopped; `lines` gets the server's warnings (the archiver's retries). */
async function withPostgresDown(t: TestContext, args: string[] = []) {
  const pg = await ownPostgres(t)
  const lines: string[] = []
  const s = await startStack(t, { database: pg.url, args: [...archiveArgs, '--loglevel', 'warn', ...args], logStream: { write: (l) => void lines.push(l) } })
  await pg.stop()
  return { pg, s, lines }
}

test('a workflow deleted while Postgres is down, with every server restarted meanwhile, is archived once Postgres is back', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, { database: pg.url, args: archiveArgs })
  // Archived: our finalizer is gone again, other finalizers are left as they were.
  const kept = finished(s, 'kept')
  s.emulator.patch(WF, 'kept', { metadata: { finalizers: ['example.com/keep'] } })
  await until('kept archived', () => liveStatus(s, 'kept') === 'Archived')
  assert.deepEqual(s.emulator.get(WF, 'kept')?.metadata.finalizers, ['example.com/keep'])

  await pg.stop()
  finished(s, 'held')
  await until('held Pending', () => liveStatus(s, 'held') === 'Pending')
  assert.deepEqual(s.emulator.get(WF, 'held')?.metadata.finalizers, [FINALIZER])
  // kubectl delete (or the controller's TTL) while the row cannot be written: Kubernetes keeps it, marked for deletion.
  const del = await s.req('/api/v1/workflows/argo/held', { method: 'DELETE' })
  assert.equal(del.status, 200)
  assert.ok(s.emulator.get(WF, 'held')?.metadata.deletionTimestamp, 'held for the archive')
  // Every server gone and back while Postgres is still down: nothing about it is left in any server's memory.
  await s.stopServer()
  await s.restartServer()
  await pg.start()
  await until('held archived and then deleted', () => s.emulator.get(WF, 'held') === undefined, 20_000)
  const rows = await sqlQuery<{ name: string; finalizers: unknown }>(pg.url,
    "SELECT name, workflow->'metadata'->'finalizers' AS finalizers FROM argo_archived_workflows ORDER BY name")
  assert.deepEqual(rows, [{ name: 'held', finalizers: null }, { name: 'kept', finalizers: ['example.com/keep'] }])
  assert.equal(kept.metadata.uid, s.emulator.get(WF, 'kept')?.metadata.uid)
  const got = await s.json<{ metadata: { labels: Record<string, string> } }>('/api/v1/workflows/argo/held')
  assert.equal(got.status, 200)
  assert.equal(got.body.metadata.labels['workflows.argoproj.io/workflow-archiving-status'], 'Persisted')
})

test('while Postgres is down, every workflow that finishes is held, not only the one probing the database: deleted, then every server restarted, none is lost', async (t) => {
  const { pg, s, lines } = await withPostgresDown(t)
  finished(s, 'first')
  await until('the wait grown to 2 s', () => lines.some((l) => l.includes('retrying in 2000 ms')), 20_000)
  // Finished during the backoff: before, they waited in this server's memory, unlabelled, one probe (2 s, then 4 s
  // and more) each, and one deleted meanwhile was gone for good once every server restarted.
  for (let i = 0; i < 5; i++) finished(s, `late-${i}`)
  const held = (name: string) => liveStatus(s, name) === 'Pending' && (s.emulator.get(WF, name)?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER)
  await until('all five held', () => [0, 1, 2, 3, 4].every((i) => held(`late-${i}`)), 1_500)
  for (let i = 0; i < 5; i++) {
    assert.equal((await s.req(`/api/v1/workflows/argo/late-${i}`, { method: 'DELETE' })).status, 200)
    assert.ok(s.emulator.get(WF, `late-${i}`)?.metadata.deletionTimestamp, `late-${i} held for the archive`)
  }
  await s.stopServer()
  await s.restartServer()
  await pg.start()
  await until('all deleted once archived', () => s.emulator.list(WF).length === 1, 30_000)
  const rows = await sqlQuery<{ name: string }>(pg.url, 'SELECT name FROM argo_archived_workflows ORDER BY name')
  assert.deepEqual(rows.map((r) => r.name), ['first', 'late-0', 'late-1', 'late-2', 'late-3', 'late-4'])
})

test('held workflows the archive no longer takes are let go: archiving turned off, a retry', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, {
    database: pg.url, args: archiveArgs,
    before: (e) => void e.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' }, data: { persistence: 'archive: true\n' } }),
  })
  await pg.stop()
  finished(s, 'off')
  finished(s, 'again', { phase: 'Failed' })
  const held = (n: string) => (s.emulator.get(WF, n)?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER)
  await until('both held', () => ['off', 'again'].every(held))
  // A retry runs it again: not waiting for the archive any more, so a deletion must not wait for it.
  const retried = await s.json<{ metadata: { finalizers?: string[] }; status: { phase: string } }>('/api/v1/workflows/argo/again/retry', { method: 'PUT', json: {} })
  assert.equal(retried.status, 200)
  assert.equal(retried.body.status.phase, 'Running')
  assert.equal(retried.body.metadata.finalizers, undefined)
  // Archiving turned off: nothing will write its row, so nothing may hold it.
  s.emulator.patch(CM, 'workflow-controller-configmap', { data: { persistence: 'archive: false\n' } })
  await until('off let go', () => s.emulator.get(WF, 'off')?.metadata.finalizers === undefined)
  assert.equal(liveStatus(s, 'off'), 'Pending')
  const del = await s.req('/api/v1/workflows/argo/off', { method: 'DELETE' })
  assert.equal(del.status, 200)
  assert.equal(s.emulator.get(WF, 'off'), undefined)
})

test('a workflow whose nodes are offloaded, finishing while Postgres is down, is held too: the hold comes before the read of its nodes', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, { database: pg.url, args: archiveArgs })
  await pg.stop()
  const wf = finished(s, 'offloaded')
  s.emulator.patch(WF, 'offloaded', { status: { nodes: null, offloadNodeStatusVersion: 'fnv:1' } })
  assert.ok(wf.metadata.uid)
  // Before, its nodes were read first: that failed, and it waited unlabelled for the database like any write.
  await until('held', () => liveStatus(s, 'offloaded') === 'Pending' && (s.emulator.get(WF, 'offloaded')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER), 10_000)
})

test('a server started without archiving lets go of the workflows an earlier server held for the archive: they can be deleted', async (t) => {
  // As an archiving server leaves them when Postgres was down: Pending, with our finalizer beside others.
  for (const persistence of ['none', 'archive: false'] as const) {
    const s = await startStack(t, {
      database: persistence !== 'none',
      before: (e) => {
        finished({ emulator: e }, 'held')
        e.patch(WF, 'held', { metadata: { labels: { [STATUS]: 'Pending' }, finalizers: ['example.com/keep', FINALIZER] } })
        // Held while it ran (--archive-hold-unfinished), no label.
        running({ emulator: e }, 'busy')
        e.patch(WF, 'busy', { metadata: { finalizers: [FINALIZER] } })
        // Another instance's (--instanceid): its own server archives it.
        finished({ emulator: e }, 'theirs', { labels: { 'workflows.argoproj.io/controller-instanceid': 'other', [STATUS]: 'Pending' } })
        e.patch(WF, 'theirs', { metadata: { finalizers: [FINALIZER] } })
        if (persistence !== 'none') e.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' }, data: { persistence } })
      },
    })
    await until(`let go (persistence: ${persistence})`, () => {
      const f = s.emulator.get(WF, 'held')?.metadata.finalizers as string[] | undefined
      return f?.length === 1 && f[0] === 'example.com/keep'
    })
    // The label stays: a server that archives again takes it.
    assert.equal(liveStatus(s, 'held'), 'Pending')
    await until('the unfinished one let go', () => s.emulator.get(WF, 'busy')?.metadata.finalizers === undefined)
    await new Promise((r) => setTimeout(r, 300)) // the other's patch, had there been one, went out with this one's
    assert.deepEqual(s.emulator.get(WF, 'theirs')?.metadata.finalizers, [FINALIZER])
    s.emulator.patch(WF, 'held', { metadata: { finalizers: null } })
    assert.equal((await s.req('/api/v1/workflows/argo/held', { method: 'DELETE' })).status, 200)
    assert.equal(s.emulator.get(WF, 'held'), undefined)
  }
})

test("an archiving server leaves another instance's held workflows alone: that instance's server archives them", async (t) => {
  const s = await startStack(t, {
    database: true, args: archiveArgs,
    before: (e) => {
      finished({ emulator: e }, 'theirs', { labels: { 'workflows.argoproj.io/controller-instanceid': 'other', [STATUS]: 'Pending' } })
      e.patch(WF, 'theirs', { metadata: { finalizers: [FINALIZER] } })
      // Held while it runs by the other instance's server.
      running({ emulator: e }, 'theirs-running', { 'workflows.argoproj.io/controller-instanceid': 'other' })
      e.patch(WF, 'theirs-running', { metadata: { finalizers: [FINALIZER] } })
      finished({ emulator: e }, 'ours')
    },
  })
  await until('ours archived', () => liveStatus(s, 'ours') === 'Archived')
  // Ours, running, created after theirs: held once the events before it were looked at.
  running(s, 'ours-running')
  await until('ours held', () => (s.emulator.get(WF, 'ours-running')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER))
  await s.server.archive.archiver?.idle()
  // Before, the scan took it for one of ours that was no longer to be archived, and let it go.
  assert.deepEqual(s.emulator.get(WF, 'theirs')?.metadata.finalizers, [FINALIZER])
  assert.deepEqual(s.emulator.get(WF, 'theirs-running')?.metadata.finalizers, [FINALIZER])
})

test('while Postgres is down, a probe that had nothing to write (a held workflow running again, let go) does not end the backoff', async (t) => {
  // Unfinished workflows not held: one running again is let go (with the default, it stays held while it runs).
  const { pg, s, lines } = await withPostgresDown(t, ['--archive-hold-unfinished=false'])
  finished(s, 'first')
  await until('retrying', () => lines.some((l) => l.includes('retrying in')), 20_000)
  finished(s, 'again')
  await until('held', () => (s.emulator.get(WF, 'again')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER))
  // Retried by the controller: running again, so its probe lets it go and writes nothing.
  s.emulator.patch(WF, 'again', { metadata: { labels: { 'workflows.argoproj.io/completed': 'false' } }, status: { phase: 'Running', finishedAt: null } })
  await until('let go', () => s.emulator.get(WF, 'again')?.metadata.finalizers === undefined, 20_000)
  const retries = lines.filter((l) => l.includes('retrying in')).length
  await until('first probed again', () => lines.filter((l) => l.includes('retrying in')).length > retries, 20_000)
  // Before, that probe ended the backoff: "writing again", and the whole queue dispatched against a database still down.
  assert.deepEqual(lines.filter((l) => l.includes('writing again')), [])
  await pg.start()
  await until('first archived', () => liveStatus(s, 'first') === 'Archived', 30_000)
  assert.ok(lines.some((l) => l.includes('writing again')))
})

test('once Postgres answers again, archiving resumes within about a second, not when the backoff\'s wait ends', async (t) => {
  const { pg, s, lines } = await withPostgresDown(t)
  finished(s, 'waiting')
  await until('the wait grown to 8 s', () => lines.some((l) => l.includes('retrying in 8000 ms')), 30_000)
  await pg.start()
  // Before, nothing was written until those 8 s were over: a crash meanwhile lost a workflow deleted before its hold.
  await until('archived before the wait is over', () => liveStatus(s, 'waiting') === 'Archived', 5_000)
})

test('unfinished workflows are held from the start: one that finishes and is deleted while no server runs is archived at the next start', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  running(s, 'busy')
  await until('held while it runs', () => (s.emulator.get(WF, 'busy')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER))
  assert.equal(liveStatus(s, 'busy'), undefined, 'no archiving label while it runs')
  await s.stopServer()
  // It finishes, and the controller's TTL deletes it at once, while no server runs: Kubernetes keeps it for the archive.
  finish(s, 'busy')
  s.emulator.delete(WF, 'busy')
  assert.ok(s.emulator.get(WF, 'busy')?.metadata.deletionTimestamp)
  await s.restartServer()
  await until('archived, then gone', () => s.emulator.get(WF, 'busy') === undefined)
  const rows = await sqlQuery<{ name: string; phase: string; finalizers: unknown }>(s.databaseUrl as string,
    "SELECT name, phase, workflow->'metadata'->'finalizers' AS finalizers FROM argo_archived_workflows")
  assert.deepEqual(rows, [{ name: 'busy', phase: 'Succeeded', finalizers: null }])
})

test('held unfinished workflows are let go when deleted before they finish (nothing archived), or when archiving is turned off; the flag turns holding off', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, {
    database: pg.url, args: archiveArgs,
    before: (e) => void e.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' }, data: { persistence: 'archive: true\n' } }),
  })
  const held = (n: string) => (s.emulator.get(WF, n)?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER)
  running(s, 'cancelled')
  running(s, 'kept-running')
  await until('both held', () => held('cancelled') && held('kept-running'))
  // Deleted while running (a user, GitOps): not archived (upstream archives finished workflows only), and not kept.
  assert.equal((await s.req('/api/v1/workflows/argo/cancelled', { method: 'DELETE' })).status, 200)
  await until('let go and gone', () => s.emulator.get(WF, 'cancelled') === undefined)
  // A finished workflow after it, archived: its events came later, so the deletion's were handled by then.
  finished(s, 'done')
  await until('done archived', () => liveStatus(s, 'done') === 'Archived')
  assert.deepEqual((await sqlQuery<{ name: string }>(pg.url, 'SELECT name FROM argo_archived_workflows')).map((r) => r.name), ['done'])
  s.emulator.patch(CM, 'workflow-controller-configmap', { data: { persistence: 'archive: false\n' } })
  await until('let go once archiving is off', () => s.emulator.get(WF, 'kept-running')?.metadata.finalizers === undefined)

  const off = await startStack(t, { database: true, args: [...archiveArgs, '--archive-hold-unfinished=false'] })
  running(off, 'free')
  finished(off, 'after')
  await until('after archived', () => liveStatus(off, 'after') === 'Archived')
  assert.equal(off.emulator.get(WF, 'free')?.metadata.finalizers, undefined, 'not held with --archive-hold-unfinished=false')
})

test('nothing stays held that nothing will archive: a copy of an archived workflow, one finished by its finishedAt alone', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const held = (n: string) => (s.emulator.get(WF, n)?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER) === true
  // Manifests taken from the archive (argo archive get -o yaml) keep their label: the Archiver never takes them.
  running(s, 'copy-persisted', { [STATUS]: 'Persisted' })
  running(s, 'copy-archived', { [STATUS]: 'Archived' })
  running(s, 'odd')
  running(s, 'plain')
  // Events are handled in order: by the time the last one is held, the copies were looked at.
  await until('held', () => held('odd') && held('plain'))
  assert.deepEqual([held('copy-persisted'), held('copy-archived')], [false, false])
  // A finishedAt left with the phase still Running: finished for the list order, never archived: let go.
  s.emulator.patch(WF, 'odd', { status: { finishedAt: new Date().toISOString().replace(/\.\d+Z/, 'Z') } })
  await until('odd let go', () => !held('odd'))
  s.emulator.delete(WF, 'odd')
  assert.equal(s.emulator.get(WF, 'odd'), undefined)
  // Held while it ran, then labelled Archived by hand and finished and deleted while no server ran: let go at start.
  await s.stopServer()
  s.emulator.patch(WF, 'plain', { metadata: { labels: { [STATUS]: 'Archived' } } })
  finish(s, 'plain')
  s.emulator.delete(WF, 'plain')
  await s.restartServer()
  await until('plain let go and gone', () => s.emulator.get(WF, 'plain') === undefined)
})

test('Postgres down when the server starts: unfinished workflows are held and let go all the same (it takes only Kubernetes)', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, { database: pg.url, args: archiveArgs })
  running(s, 'busy')
  await s.stopServer()
  await pg.stop()
  await s.restartServer()
  await until('held by the new leader', () => (s.emulator.get(WF, 'busy')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER))
  assert.equal((await s.req('/api/v1/workflows/argo/busy', { method: 'DELETE' })).status, 200)
  await until('let go and gone while Postgres is still down', () => s.emulator.get(WF, 'busy') === undefined)
})

test('a rolling change to a server without archiving: what the old leader held meanwhile is let go once it is gone', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  running(s, 'early')
  await until('early held', () => (s.emulator.get(WF, 'early')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER))
  const dir = await mkdtemp(join(tmpdir(), 'argo-test-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const kubeconfig = await s.emulator.writeKubeconfig(join(dir, 'kubeconfig'))
  const plain = await createServer(parseConfig(['--port', '0', '--secure=false', '--namespace', 'argo', '--kubeconfig', kubeconfig, '--loglevel', 'error', ...archiveArgs], {}), { kind: 'file', path: kubeconfig })
  t.after(() => plain.close())
  running(s, 'late')
  await until('late held by the old leader', () => (s.emulator.get(WF, 'late')?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER))
  await s.stopServer()
  finish(s, 'late')
  s.emulator.delete(WF, 'late')
  // Let go by the server without persistence at its next pass (every 4 lease durations), not at its next start.
  await until('late let go and gone', () => s.emulator.get(WF, 'late') === undefined, 15_000)
})

