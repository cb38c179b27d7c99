import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ownPostgres, sqlQuery } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, finished, liveStatus, until, WF } from './helpers.js'

const FINALIZER = 'workflows.argoproj.io/archive'
const CM = { group: '', resource: 'configmaps', namespace: 'argo' }

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
