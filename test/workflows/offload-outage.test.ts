import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ownPostgres, sqlQuery } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }

test('Get of a workflow whose nodes are offloaded, with Postgres down: 503 code 14 in the contract\'s shape, then its nodes once Postgres is back', async (t) => {
  const pg = await ownPostgres(t)
  const s = await startStack(t, { database: pg.url })
  const wf = s.emulator.create(WF, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'off' },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
    status: { phase: 'Running', startedAt: '2026-03-01T00:00:00Z' },
  })
  const nodes = { off: { id: 'off', name: 'off', displayName: 'off', type: 'Pod', phase: 'Running', templateName: 'main' } }
  await sqlQuery(pg.url, 'INSERT INTO argo_workflows (uid, namespace, clustername, version, nodes) VALUES ($1, $2, $3, $4, $5)',
    [wf.metadata.uid, 'argo', 'default', 'fnv:1', JSON.stringify(nodes)])
  s.emulator.patch(WF, 'off', { status: { offloadNodeStatusVersion: 'fnv:1' } })
  assert.deepEqual((await s.json<{ status: { nodes?: unknown } }>('/api/v1/workflows/argo/off')).body.status.nodes, nodes)
  await pg.stop()
  const down = await s.json<{ code: number; message: string }>('/api/v1/workflows/argo/off')
  assert.equal(down.status, 503)
  assert.equal(down.body.code, 14)
  assert.match(down.body.message, /^the archive database is unavailable/)
  await pg.start()
  for (const end = Date.now() + 30_000; ;) {
    const r = await s.json<{ status: { nodes?: unknown } }>('/api/v1/workflows/argo/off')
    if (r.status === 200) {
      assert.deepEqual(r.body.status.nodes, nodes)
      break
    }
    assert.ok(Date.now() < end, `still ${r.status} after Postgres came back`)
    await new Promise((r) => setTimeout(r, 200))
  }
})
