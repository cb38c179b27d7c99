import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Identity } from '../../src/auth/identity.js'
import type { KubeObject } from '../../src/kube/resources.js'
import { listWorkflows, type ListDeps } from '../../src/workflows/list.js'
import { WorkflowStore } from '../../src/workflows/workflow-store.js'

const wf = (uid: string, rv: number, created: string, finishedAt?: string): KubeObject => ({
  metadata: { uid, name: uid, namespace: 'argo', resourceVersion: String(rv), creationTimestamp: created },
  status: finishedAt ? { finishedAt } : {},
})
const BASE = [wf('new-1', 1, '2026-01-01T00:00:03Z'), wf('new-2', 2, '2026-01-01T00:00:02Z'), wf('old-3', 3, '2026-01-01T00:00:01Z'),
  wf('done-4', 4, '2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z')]

// Over HTTP a re-list cannot be timed between this server's write and the watch bringing it: the store directly.
test('a re-list records the moves of what pages were served from, this server\'s own writes included', async () => {
  const store = new WorkflowStore()
  store.beginSync()
  store.syncPage(BASE)
  store.endSync('4')
  // This server created `mine` (read-your-writes: listed at once, not yet through the watch); it is listed first.
  store.observe(wf('mine', 5, '2026-01-01T00:00:09Z'))
  const deps = { store, access: { require: async () => {} }, instanceId: '', ready: async () => {} } as unknown as ListDeps
  const page = async (cont?: string) => JSON.parse(String(await listWorkflows(deps, {} as Identity, { namespace: 'argo', limit: 2, continue: cont }))) as
    { metadata: { continue?: string }; items: { metadata: { name: string } }[] }
  const first = await page()
  const seen = first.items.map((i) => i.metadata.name)
  assert.deepEqual(seen, ['mine', 'new-1'])
  // The watch is lost (410) before it brings `mine`, which meanwhile finished: the re-list has it finished.
  store.beginSync()
  store.syncPage([...BASE, wf('mine', 6, '2026-01-01T00:00:09Z', '2026-02-01T00:00:00Z')])
  store.endSync('6')
  for (let cont = first.metadata.continue; cont;) {
    const p = await page(cont)
    seen.push(...p.items.map((i) => i.metadata.name))
    cont = p.metadata.continue
  }
  assert.deepEqual(seen, ['mine', 'new-1', 'new-2', 'old-3', 'done-4'])
})
