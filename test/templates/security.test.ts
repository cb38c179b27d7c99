import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'
import { aTemplate, post, type ErrorBody } from './helpers.js'

const sar = { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }
// may use templates in namespace argo only, and nothing cluster-scoped
const argoOnly = { token: 'argo-only', username: 'argo-only', rules: [{ verbs: ['*'], apiGroups: ['argoproj.io'], resources: ['workflowtemplates', 'cronworkflows'], namespaces: ['argo'] }, sar] }
// may do everything with workflows, nothing with templates
const noTemplates = { token: 'no-templates', username: 'no-templates', rules: [{ verbs: ['*'], apiGroups: ['argoproj.io'], resources: ['workflows'] }, sar] }

const SECRET = 'top-secret-image:1'
const secretTemplate = (name: string) => ({ ...aTemplate(name), spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: SECRET } }] } })

// GHSA-56px-hm34-xqj5: template Gets were served from the server's informer without asking whether the caller may see
// them; a fake token read every template. Every call here goes to Kubernetes as the caller (spec §8).
test('GHSA-56px-hm34-xqj5: a caller without rights on templates gets 401/403 and never a template', async (t) => {
  const s = await startStack(t, { users: [argoOnly, noTemplates] })
  assert.equal((await post(s, '/api/v1/workflow-templates/default', { template: secretTemplate('wt') })).status, 200)
  assert.equal((await post(s, '/api/v1/cluster-workflow-templates', { template: secretTemplate('cwt') })).status, 200)
  assert.equal((await post(s, '/api/v1/cron-workflows/default', { cronWorkflow: { metadata: { name: 'cw' }, spec: { schedules: ['@daily'], workflowSpec: secretTemplate('x').spec } } })).status, 200)

  const reads = [
    '/api/v1/workflow-templates/default/wt', '/api/v1/workflow-templates/default', '/api/v1/workflow-templates/',
    '/api/v1/cluster-workflow-templates/cwt', '/api/v1/cluster-workflow-templates',
    '/api/v1/cron-workflows/default/cw', '/api/v1/cron-workflows/default',
  ]
  for (const [token, status] of [['garbage', 401], ['no-templates', 403], ['argo-only', 403]] as const) {
    for (const path of reads) {
      const res = await s.req(path, { token })
      const text = await res.text()
      assert.equal(res.status, status, `${token} GET ${path}`)
      assert.equal((JSON.parse(text) as ErrorBody).code, status === 401 ? 16 : 7)
      assert.doesNotMatch(text, /top-secret/, `${token} GET ${path} leaks nothing`)
    }
    for (const [method, path] of [['DELETE', '/api/v1/workflow-templates/default/wt'], ['DELETE', '/api/v1/cluster-workflow-templates/cwt'], ['PUT', '/api/v1/cron-workflows/default/cw/suspend']] as const) {
      assert.equal((await s.req(path, { method, token })).status, status, `${token} ${method} ${path}`)
    }
  }
  // writes and lint of a cron workflow resolve its references as the caller too
  const denied = await s.json<ErrorBody>('/api/v1/cron-workflows/argo/lint', {
    method: 'POST', token: 'argo-only',
    json: { cronWorkflow: { metadata: { name: 'c' }, spec: { schedules: ['@daily'], workflowSpec: { workflowTemplateRef: { name: 'cwt', clusterScope: true } } } } },
  })
  assert.equal(denied.status, 403)
  assert.doesNotMatch(JSON.stringify(denied.body), /top-secret/)

  // the same user sees what RBAC grants: templates in argo
  assert.equal((await post(s, '/api/v1/workflow-templates/argo', { template: aTemplate('mine') }, 'argo-only')).status, 200)
  assert.equal((await s.req('/api/v1/workflow-templates/argo/mine', { token: 'argo-only' })).status, 200)
  assert.equal((await s.req('/api/v1/workflow-templates/argo', { token: 'argo-only' })).status, 200)
  assert.equal((await post(s, '/api/v1/workflow-templates/default', { template: aTemplate('theirs') }, 'argo-only')).status, 403)
})
