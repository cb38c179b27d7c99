import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { sqlQuery } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, liveStatus, until, WF } from './helpers.js'

type Wf = { metadata: { uid: string }; status: Record<string, unknown> }

const nodesOf = (name: string) => ({ [name]: { id: name, name, displayName: name, type: 'Pod', phase: 'Succeeded', templateName: 'main' } })

/** A workflow as the controller leaves it once it moved its nodes out of the object; `status` says where. */
function create(s: Awaited<ReturnType<typeof startStack>>, name: string, phase: string, status: Record<string, unknown>) {
  return s.emulator.create(WF, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name, labels: phase === 'Running' ? {} : { 'workflows.argoproj.io/completed': 'true' } },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
    status: { phase, startedAt: '2026-03-01T00:00:00Z', ...(phase === 'Running' ? {} : { finishedAt: '2026-03-01T00:01:00Z' }), ...status },
  })
}

test('a workflow whose nodes the controller offloaded or compressed is archived with its nodes', async (t) => {
  const warnings: string[] = []
  const s = await startStack(t, { database: true, args: [...archiveArgs, '--loglevel', 'warn'], logStream: { write: (l) => void warnings.push(l) } })
  const db = s.databaseUrl as string
  // The offload table (spec §6.1) exists: migration 0001 creates it as upstream's migrations do.

  // Offloaded while running; the row is written before the object names its version, then the workflow ends.
  const running = create(s, 'offloaded', 'Running', {})
  const uid = running.metadata.uid as string
  await sqlQuery(db, 'INSERT INTO argo_workflows (uid, namespace, clustername, version, nodes) VALUES ($1, $2, $3, $4, $5)',
    [uid, 'argo', 'default', 'fnv:1', JSON.stringify(nodesOf('offloaded'))])
  // An older version of the same workflow, not the one it names.
  await sqlQuery(db, 'INSERT INTO argo_workflows (uid, namespace, clustername, version, nodes) VALUES ($1, $2, $3, $4, $5)',
    [uid, 'argo', 'default', 'fnv:0', '{}'])
  s.emulator.patch(WF, 'offloaded', {
    metadata: { labels: { 'workflows.argoproj.io/completed': 'true' } },
    status: { phase: 'Succeeded', finishedAt: '2026-03-01T00:01:00Z', offloadNodeStatusVersion: 'fnv:1' },
  })
  const compressed = create(s, 'compressed', 'Succeeded', { compressedNodes: gzipSync(JSON.stringify(nodesOf('compressed'))).toString('base64') })
  // Its offloaded row was already garbage-collected: archived anyway, without the nodes, and said so.
  const gone = create(s, 'gone', 'Failed', { offloadNodeStatusVersion: 'fnv:9' })

  for (const name of ['offloaded', 'compressed', 'gone']) await until(`${name} archived`, () => liveStatus(s, name) === 'Archived')
  const get = async (u: unknown) => (await s.json<Wf>(`/api/v1/archived-workflows/${String(u)}`)).body.status
  const a = await get(uid)
  assert.deepEqual(a.nodes, nodesOf('offloaded'))
  assert.equal(a.offloadNodeStatusVersion, undefined)
  const b = await get(compressed.metadata.uid)
  assert.deepEqual(b.nodes, nodesOf('compressed'))
  assert.equal(b.compressedNodes, undefined)
  const c = await get(gone.metadata.uid)
  assert.equal(c.nodes, undefined)
  assert.equal(c.offloadNodeStatusVersion, 'fnv:9')
  assert.equal(c.phase, 'Failed')
  assert.ok(warnings.some((l) => l.includes('argo/gone') && l.includes('version fnv:9')), warnings.join('\n'))
  // The rows hold them too (readable by upstream's server as it stores them).
  const rows = await sqlQuery<{ name: string; n: number }>(db, "SELECT name, jsonb_array_length(jsonb_path_query_array(workflow, '$.status.nodes.keyvalue()')) AS n FROM argo_archived_workflows ORDER BY name")
  assert.deepEqual(rows.map((r) => [r.name, Number(r.n)]), [['compressed', 1], ['gone', 0], ['offloaded', 1]])
})

test('without an offload table, a workflow naming an offload version is archived as it is', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  await sqlQuery(s.databaseUrl as string, 'DROP TABLE argo_workflows') // a database migrated by an older upstream, say
  const wf = create(s, 'no-table', 'Succeeded', { offloadNodeStatusVersion: 'fnv:1' })
  await until('archived', () => liveStatus(s, 'no-table') === 'Archived')
  const got = await s.json<Wf>(`/api/v1/archived-workflows/${String(wf.metadata.uid)}`)
  assert.equal(got.body.status.offloadNodeStatusVersion, 'fnv:1')
})
