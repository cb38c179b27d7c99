// The server's list of workflows when a page's continue token expires under it, as etcd compaction does on a real
// apiserver (storage/etcd3/store.go handleCompactedErrorForPaging: 410 Expired).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const LIST = /^\/apis\/argoproj\.io\/v1alpha1\/workflows$/
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('a continue token compacted between pages: the server re-lists and serves every workflow once, none stale', async (t) => {
  const names = Array.from({ length: 520 }, (_, i) => `wf-${String(i).padStart(3, '0')}`)
  let compacted: Promise<void> | undefined
  const s = await startStack(t, {
    before: (em) => {
      for (const name of names) em.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'm' } })
      // The second page (a continue token) waits a moment; meanwhile a workflow is deleted and the store compacted.
      em.fault({ method: 'GET', path: LIST, watch: false, query: /(^|&)continue=/, delayMs: 500 })
      compacted = (async () => {
        const until = Date.now() + 20_000
        while (em.requestCount({ method: 'GET', path: LIST, watch: false }) < 2 && Date.now() < until) await sleep(5)
        em.remove(WF, 'wf-000')
        em.compact()
      })()
    },
  })
  await compacted
  const until = Date.now() + 15_000
  let got: string[] = []
  while (Date.now() < until) {
    const r = await s.json<{ items: { metadata: { name: string } }[] | null }>('/api/v1/workflows/argo?listOptions.limit=1000&fields=items.metadata.name')
    assert.equal(r.status, 200)
    got = (r.body.items ?? []).map((i) => i.metadata.name).sort()
    if (got.length === names.length - 1 && !got.includes('wf-000')) break
    await sleep(50)
  }
  assert.deepEqual(got, names.slice(1))
  assert.ok(s.emulator.requestCount({ method: 'GET', path: LIST, watch: false }) >= 3, 'the expired page was followed by a fresh list')
})
