import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { identityOf } from '../auth/index.js'
import { typedRoutes } from '../http/openapi.js'
import { sendJson } from '../http/reply.js'
import type { InfoService } from './service.js'

const tags = ['InfoService']
const Loose = (id: string) => z.looseObject({}).meta({ id })

/** InfoService (spec §1): no Kubernetes call, but authenticated like every /api route. */
export function infoRoutes(app: FastifyInstance, info: InfoService): void {
  const r = typedRoutes(app)
  r.get('/api/v1/info', { schema: { operationId: 'InfoService_GetInfo', tags, response: { 200: Loose('io.argoproj.workflow.v1alpha1.InfoResponse') } } },
    async (req, reply) => { identityOf(req); return sendJson(reply, info.info()) })
  r.get('/api/v1/version', { schema: { operationId: 'InfoService_GetVersion', tags, response: { 200: Loose('io.argoproj.workflow.v1alpha1.Version') } } },
    async (req, reply) => { identityOf(req); return sendJson(reply, info.version()) })
  r.get('/api/v1/userinfo', { schema: { operationId: 'InfoService_GetUserInfo', tags, response: { 200: Loose('io.argoproj.workflow.v1alpha1.GetUserInfoResponse') } } },
    async (req, reply) => sendJson(reply, info.userInfo(identityOf(req))))
}
