import assert from 'node:assert/strict'
import { test } from 'node:test'
import { examples } from '../harness/examples.js'
import { startStack } from '../harness/stack.js'
import { post, type ErrorBody, type Obj } from '../templates/helpers.js'

test('every CronWorkflow in shared/argo/examples lints and creates once the templates it references exist', async (t) => {
  const s = await startStack(t)
  const crons = examples('CronWorkflow')
  assert.ok(crons.length >= 5, `found ${crons.length}`)
  // Some reference WorkflowTemplates (cron-backfill.yaml, dag-inline-cronworkflow.yaml): references must resolve.
  const referencing = crons.filter(({ doc }) => /"(workflowTemplateRef|templateRef)"/.test(JSON.stringify(doc)))
  assert.ok(referencing.length > 0)
  for (const { file, doc } of referencing) {
    const res = await post<ErrorBody>(s, '/api/v1/cron-workflows/argo/lint', { cronWorkflow: doc })
    assert.equal(res.status, 400, `${file} refers to templates that do not exist yet`)
    assert.match(res.body.message, /not found/)
  }
  for (const { doc } of examples('WorkflowTemplate')) assert.equal((await post(s, '/api/v1/workflow-templates/argo', { template: doc })).status, 200)
  for (const { file, doc } of crons) {
    const lint = await post<Obj & ErrorBody>(s, '/api/v1/cron-workflows/argo/lint', { cronWorkflow: doc })
    assert.equal(lint.status, 200, `${file} lints: ${lint.body.message ?? ''}`)
    const created = await post<Obj & ErrorBody>(s, '/api/v1/cron-workflows/argo', { cronWorkflow: doc })
    assert.equal(created.status, 200, `${file} creates: ${created.body.message ?? ''}`)
    assert.deepEqual(created.body.spec, doc.spec, file)
    assert.deepEqual(created.body.status, {}, `${file}: status is always present`)
  }
})
