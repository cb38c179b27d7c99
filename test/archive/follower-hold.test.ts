import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Emulator } from '../../emulator/types.js'
import { ownPostgres, sqlQuery } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, finished, liveStatus, until, WF } from './helpers.js'

// Replicas that do not hold the archiver's Lease hold finished workflows nobody has labelled (src/archive/follower-hold.ts).

const FINALIZER = 'workflows.argoproj.io/archive'
const LEASES = { group: 'coordination.k8s.io', resource: 'leases', namespace: 'argo' }
const holds = (s: { emulator: Emulator }, name: string) => liveStatus(s, name) === 'Pending'
  && (s.emulator.get(WF, name)?.metadata.finalizers as string[] | undefined)?.includes(FINALIZER)
/** As a leader killed a moment ago leaves it: its Lease still names it, freshly renewed. */
const deadLeadersLease = (e: Emulator) => void e.create(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'argo-server-archiver' },
  spec: { holderIdentity: 'killed', leaseDurationSeconds: 60, renewTime: new Date().toISOString().replace('Z', '000Z') } })

test('a workflow that finishes while no replica leads (the leader died, its Lease not expired) is held by the others: deleted at once, with Postgres down and that replica gone too, it is still archived', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, {
    database: pg.url, args: archiveArgs, before: deadLeadersLease,
  })
  assert.equal((await s.req('/api/v1/workflows/argo')).status, 200)
  await pg.stop()
  finished(s, 'orphan')
  // Before, only the leader labelled workflows: this one waited unlabelled, and its deletion went through at once.
  await until('held by a replica that does not lead', () => holds(s, 'orphan'), 5_000)
  assert.equal(s.server.archive.elector?.leader, false)
  assert.equal((await s.req('/api/v1/workflows/argo/orphan', { method: 'DELETE' })).status, 200)
  assert.ok(s.emulator.get(WF, 'orphan')?.metadata.deletionTimestamp, 'held for the archive')
  await s.stopServer()
  // The next server leads at once (the old Lease gone) and finds it held once Postgres is back.
  s.emulator.remove(LEASES, 'argo-server-archiver')
  await s.restartServer()
  await pg.start()
  await until('archived and then deleted', () => s.emulator.get(WF, 'orphan') === undefined, 20_000)
  assert.deepEqual(await sqlQuery<{ name: string }>(pg.url, 'SELECT name FROM argo_archived_workflows'), [{ name: 'orphan' }])
})

test('Postgres down from the start (migrations pending): a replica that does not lead still holds, what finished before it started too', async (t) => {
  const pg = await ownPostgres(t)
  await pg.stop()
  const s = await startStack(t, {
    database: pg.url, args: archiveArgs,
    before: (e) => {
      deadLeadersLease(e)
      finished({ emulator: e }, 'before-start')
    },
  })
  finished(s, 'after-start')
  // Before, a follower held nothing until the migrations had run, and nothing that finished before it followed.
  await until('both held', () => holds(s, 'before-start') && holds(s, 'after-start'), 10_000)
})

test('where no replica can take the Lease (RBAC without leases), a replica that does not lead holds nothing: nothing would let it go', async (t) => {
  const lines: string[] = []
  let allow = () => {}
  const s = await startStack(t, {
    database: true, args: [...archiveArgs, '--loglevel', 'warn'], logStream: { write: (l) => void lines.push(l) },
    before: (e) => {
      deadLeadersLease(e)
      allow = e.fault({ path: /leases/, status: 403, times: Infinity })
    },
  })
  await until('the election failing', () => lines.some((l) => l.includes('archive lease')))
  finished(s, 'unheld')
  finished(s, 'kept')
  await new Promise((r) => setTimeout(r, 1_500))
  assert.equal(s.emulator.get(WF, 'unheld')?.metadata.finalizers, undefined)
  assert.equal((await s.req('/api/v1/workflows/argo/unheld', { method: 'DELETE' })).status, 200)
  assert.equal(s.emulator.get(WF, 'unheld'), undefined)
  // The Lease readable again (another replica leads, by its record): what finished meanwhile is held now.
  allow()
  await until('held once the election works', () => holds(s, 'kept'), 5_000)
})

test('a leader that steps down holds what it had not labelled yet: the next leader is a lease duration away', async (t) => {
  const s = await startStack(t, { database: true, args: ['--archive-lease-seconds', '3'] })
  await until('leading', () => s.server.archive.elector?.leader === true)
  // Its label patch of the workflow waits 4 s and fails; meanwhile another replica takes the Lease (as after a pause
  // of this one's renewals), and this one steps down with the workflow unlabelled.
  s.emulator.fault({ path: /workflows\/stranded$/, method: 'PATCH', status: 500, delayMs: 4_000 })
  finished(s, 'stranded')
  await new Promise((r) => setTimeout(r, 300))
  s.emulator.patch(LEASES, 'argo-server-archiver', { spec: { holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: new Date().toISOString().replace('Z', '000Z') } })
  await until('stepped down', () => s.server.archive.elector?.leader === false, 5_000)
  // Before, only live changes were held after stepping down: this workflow, unchanged, stayed unheld (until 'other'
  // was found dead, a minute later) and a deletion went through at once.
  await until('held by the replica that stepped down', () => holds(s, 'stranded'), 5_000)
})
