import assert from 'node:assert/strict'
import { test } from 'node:test'
import { examples } from '../harness/examples.js'
import { startStack } from '../harness/stack.js'
import { post, type ErrorBody, type Obj } from './helpers.js'

const kinds = [
  ['WorkflowTemplate', '/api/v1/workflow-templates/argo'],
  ['ClusterWorkflowTemplate', '/api/v1/cluster-workflow-templates'],
] as const

test('every WorkflowTemplate and ClusterWorkflowTemplate in shared/argo/examples lints, creates and reads back', async (t) => {
  const s = await startStack(t)
  for (const [kind, base] of kinds) {
    const docs = examples(kind)
    assert.ok(docs.length >= (kind === 'WorkflowTemplate' ? 10 : 3), `found ${docs.length} ${kind}s`)
    for (const { file, doc } of docs) {
      const lint = await post<Obj & ErrorBody>(s, `${base}/lint`, { template: doc })
      assert.equal(lint.status, 200, `${file} lints: ${lint.body.message ?? ''}`)
      const created = await post<Obj & ErrorBody>(s, base, { template: doc })
      assert.equal(created.status, 200, `${file} creates: ${created.body.message ?? ''}`)
      assert.ok(created.body.metadata.uid, file)
      const got = await s.json<Obj>(`${base}/${created.body.metadata.name ?? ''}`)
      assert.deepEqual(got.body.spec, doc.spec, `${file} reads back`)
    }
  }
})
