import assert from 'node:assert/strict'
import { test } from 'node:test'
import { examples } from '../harness/examples.js'
import { startStack } from '../harness/stack.js'

test('every Workflow in shared/argo/examples lints and creates', async (t) => {
  const s = await startStack(t)
  const workflows = examples('Workflow')
  assert.ok(workflows.length > 150, `found ${workflows.length}`)
  for (const { file, doc } of workflows) {
    const lint = await s.json<{ message?: string }>('/api/v1/workflows/argo/lint', { method: 'POST', json: { workflow: doc } })
    assert.equal(lint.status, 200, `${file} lints: ${lint.body.message ?? ''}`)
    const created = await s.json<{ metadata?: { uid?: string }; message?: string }>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: doc } })
    if (!doc.metadata?.name && !doc.metadata?.generateName) {
      // fun-with-gifs.yaml nests generateName under labels (it is marked no-test upstream): Kubernetes refuses it.
      assert.equal(created.status, 400, file)
      assert.match(created.body.message ?? '', /metadata\.name: Required value/)
      continue
    }
    assert.equal(created.status, 200, `${file} creates: ${created.body.message ?? ''}`)
    assert.ok(created.body.metadata?.uid, file)
  }
  const listed = await s.json<{ items: unknown[] }>('/api/v1/workflows/argo?listOptions.limit=1000&fields=items.metadata.name')
  assert.equal(listed.status, 200)
})
