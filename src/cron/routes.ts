import type { FastifyInstance } from 'fastify'
import { identityOf } from '../auth/index.js'
import { typedRoutes } from '../http/openapi.js'
import { NamespaceNameParams } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import { crudRoutes, ListQuery } from '../templates/index.js'
import * as S from './schemas.js'
import type { CronWorkflowService } from './service.js'

const tag = 'CronWorkflowService'

/** CronWorkflowService (spec §1): CRUD and lint, plus suspend and resume. */
export function cronRoutes(app: FastifyInstance, service: CronWorkflowService): void {
  crudRoutes(app, {
    service,
    base: '/api/v1/cron-workflows',
    schemas: {
      object: S.CronWorkflow, list: S.CronWorkflowList, deleted: S.CronWorkflowDeletedResponse, listQuery: ListQuery,
      create: S.CreateCronWorkflowRequest, lint: S.LintCronWorkflowRequest, update: S.UpdateCronWorkflowRequest,
    },
  })

  const r = typedRoutes(app)
  for (const [action, suspend, body] of [['suspend', true, S.CronWorkflowSuspendRequest], ['resume', false, S.CronWorkflowResumeRequest]] as const) {
    r.put(`/api/v1/cron-workflows/:namespace/:name/${action}`, {
      schema: { operationId: `${tag}_${suspend ? 'Suspend' : 'Resume'}CronWorkflow`, tags: [tag], params: NamespaceNameParams, body, response: { 200: S.CronWorkflow } },
    }, async (req, reply) => sendJson(reply, await service.setSuspend(identityOf(req), req.params.namespace, req.params.name, suspend)))
  }
}
