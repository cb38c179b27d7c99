import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { identityOf } from '../auth/index.js'
import { typedRoutes } from '../http/openapi.js'
import { listOptionsQuery } from '../http/query.js'
import { sendJson, sendRawJson } from '../http/reply.js'
import { Workflow, WorkflowList } from '../workflows/index.js'
import type { ArchiveService } from './service.js'

const tags = ['ArchivedWorkflowService']
const params = z.object({ uid: z.string().default('') })
const byName = z.object({ namespace: z.string().optional(), name: z.string().optional() })
const LabelKeys = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.LabelKeys' })
const LabelValues = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.LabelValues' })
const ArchivedDeleteResponse = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.ArchivedWorkflowDeletedResponse' })
// No Kubernetes name is longer than 253 characters: a longer one is refused before any call.
const name = z.string().max(253).optional()
const RetryBody = z.object({
  uid: z.string().optional(), name, namespace: name,
  restartSuccessful: z.boolean().optional(), nodeFieldSelector: z.string().optional(), parameters: z.array(z.string()).optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.RetryArchivedWorkflowRequest' })
const ResubmitBody = z.object({
  uid: z.string().optional(), name, namespace: name,
  memoized: z.boolean().optional(), parameters: z.array(z.string()).optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.ResubmitArchivedWorkflowRequest' })

/** ArchivedWorkflowService (spec §1): paths, parameters and operationIds as upstream's swagger. */
export function archiveRoutes(app: FastifyInstance, service: ArchiveService): void {
  const r = typedRoutes(app)

  r.get('/api/v1/archived-workflows', {
    schema: {
      operationId: 'ArchivedWorkflowService_ListArchivedWorkflows', tags, response: { 200: WorkflowList },
      querystring: z.object({ ...listOptionsQuery, namePrefix: z.string().optional(), namespace: z.string().optional(), nameFilter: z.string().optional() }),
    },
  }, async (req, reply) => {
    const q = req.query
    return sendRawJson(reply, await service.list(identityOf(req), {
      namespace: q.namespace, labelSelector: q['listOptions.labelSelector'], fieldSelector: q['listOptions.fieldSelector'],
      limit: q['listOptions.limit'], continue: q['listOptions.continue'], namePrefix: q.namePrefix, nameFilter: q.nameFilter,
    }))
  })

  // `/api/v1/archived-workflows/?namespace=&name=` is get-by-name: the empty {uid} binds "" (spec §2.1).
  for (const [url, hide] of [['/api/v1/archived-workflows/:uid', false], ['/api/v1/archived-workflows/', true]] as const) {
    r.get(url, {
      schema: { hide, operationId: 'ArchivedWorkflowService_GetArchivedWorkflow', tags, params, querystring: byName, response: { 200: Workflow } },
    }, async (req, reply) => sendJson(reply, await service.get(identityOf(req), req.params.uid, req.query.namespace, req.query.name)))

    r.delete(url, {
      schema: { hide, operationId: 'ArchivedWorkflowService_DeleteArchivedWorkflow', tags, params, querystring: byName, response: { 200: ArchivedDeleteResponse } },
    }, async (req, reply) => {
      await service.delete(identityOf(req), req.params.uid, req.query.namespace, req.query.name)
      return sendJson(reply, {})
    })
  }

  r.put('/api/v1/archived-workflows/:uid/retry', {
    schema: { operationId: 'ArchivedWorkflowService_RetryArchivedWorkflow', tags, params, body: RetryBody, response: { 200: Workflow } },
  }, async (req, reply) => sendJson(reply, await service.retry(identityOf(req), req.params.uid, req.body ?? {})))

  r.put('/api/v1/archived-workflows/:uid/resubmit', {
    schema: { operationId: 'ArchivedWorkflowService_ResubmitArchivedWorkflow', tags, params, body: ResubmitBody, response: { 200: Workflow } },
  }, async (req, reply) => sendJson(reply, await service.resubmit(identityOf(req), req.params.uid, req.body ?? {})))

  r.get('/api/v1/archived-workflows-label-keys', {
    schema: { operationId: 'ArchivedWorkflowService_ListArchivedWorkflowLabelKeys', tags, querystring: z.object({ namespace: z.string().optional() }), response: { 200: LabelKeys } },
  }, async (req, reply) => sendJson(reply, await service.labelKeys(identityOf(req), req.query.namespace ?? '')))

  r.get('/api/v1/archived-workflows-label-values', {
    schema: {
      operationId: 'ArchivedWorkflowService_ListArchivedWorkflowLabelValues', tags, response: { 200: LabelValues },
      querystring: z.object({ ...listOptionsQuery, namespace: z.string().optional() }),
    },
  }, async (req, reply) => sendJson(reply, await service.labelValues(identityOf(req), req.query.namespace ?? '', req.query['listOptions.labelSelector'])))
}
