import type { FastifyInstance } from 'fastify'
import { identityOf } from '../auth/index.js'
import { NamespaceNameParams, NamespaceParams } from '../http/query.js'
import { sendJson, sendRawJson } from '../http/reply.js'
import { listWorkflows, type ListDeps } from './list.js'
import {
  DeleteWorkflowQuery, GetWorkflowQuery, ListWorkflowsQuery, Workflow, WorkflowCreateRequest,
  WorkflowDeleteResponse, WorkflowLintRequest, WorkflowList,
} from './schemas.js'
import type { WorkflowService } from './service.js'
import { SubmissionHeaders, type AnswerSubmission } from './submission-hook.js'
import { typedRoutes } from '../http/openapi.js'

const tags = ['WorkflowService']

/** WorkflowService's unary routes (spec §1); paths and operationIds as upstream's swagger. */
export function workflowRoutes(app: FastifyInstance, deps: { service: WorkflowService; list: ListDeps; answer: AnswerSubmission }): void {
  const r = typedRoutes(app)
  const { service } = deps

  // An empty namespace segment means every namespace (spec §2.1); registered twice, shown once.
  for (const [url, hide] of [['/api/v1/workflows/:namespace', false], ['/api/v1/workflows/', true]] as const) {
    r.get(url, {
      schema: { hide, operationId: 'WorkflowService_ListWorkflows', tags, params: NamespaceParams, querystring: ListWorkflowsQuery, response: { 200: WorkflowList } },
    }, async (req, reply) => {
      const q = req.query
      const json = await listWorkflows(deps.list, identityOf(req), {
        namespace: req.params.namespace,
        labelSelector: q['listOptions.labelSelector'],
        fieldSelector: q['listOptions.fieldSelector'],
        limit: q['listOptions.limit'],
        continue: q['listOptions.continue'],
        nameFilter: q.nameFilter,
        createdAfter: q.createdAfter,
        finishedBefore: q.finishedBefore,
        fields: q.fields,
      })
      return sendRawJson(reply, json)
    })
  }

  r.post('/api/v1/workflows/:namespace', {
    schema: { operationId: 'WorkflowService_CreateWorkflow', tags, params: NamespaceParams, headers: SubmissionHeaders, body: WorkflowCreateRequest, response: { 200: Workflow, 202: Workflow } },
  }, async (req, reply) => {
    const { namespace } = req.params
    const b = req.body
    // Idempotency-Key and Prefer: wait (ours) wrap the create; without them the answer is upstream's.
    const dryRun = b.serverDryRun === true || Boolean(b.createOptions?.dryRun?.length)
    return deps.answer(req, reply, { kind: 'create', namespace, body: b, dryRun }, (decorate) =>
      service.create(identityOf(req), { namespace, workflow: b.workflow, serverDryRun: b.serverDryRun, createOptions: b.createOptions, decorate }))
  })

  r.post('/api/v1/workflows/:namespace/lint', {
    schema: { operationId: 'WorkflowService_LintWorkflow', tags, params: NamespaceParams, body: WorkflowLintRequest, response: { 200: Workflow } },
  }, async (req, reply) => sendJson(reply, service.lint(identityOf(req), req.params.namespace, req.body.workflow)))

  r.get('/api/v1/workflows/:namespace/:name', {
    schema: { operationId: 'WorkflowService_GetWorkflow', tags, params: NamespaceNameParams, querystring: GetWorkflowQuery, response: { 200: Workflow } },
  }, async (req, reply) => {
    const { namespace, name } = req.params
    return sendJson(reply, await service.get(identityOf(req), namespace, name, { uid: req.query.uid, fields: req.query.fields }))
  })

  r.delete('/api/v1/workflows/:namespace/:name', {
    schema: { operationId: 'WorkflowService_DeleteWorkflow', tags, params: NamespaceNameParams, querystring: DeleteWorkflowQuery, response: { 200: WorkflowDeleteResponse } },
  }, async (req, reply) => {
    const { namespace, name } = req.params
    await service.delete(identityOf(req), namespace, name, req.query.force === true)
    return sendJson(reply, {})
  })
}
