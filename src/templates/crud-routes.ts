import type { FastifyInstance } from 'fastify'
import type { ZodType } from 'zod'
import { identityOf } from '../auth/index.js'
import { typedRoutes } from '../http/openapi.js'
import { NamespaceNameParams, NamespaceParams } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import type { ArgoObjects } from './objects.js'
import { DeleteQuery, GetQuery, NameParams, isDryRun, listQueryOf } from './schemas.js'

/** How one CRUD service is exposed: upstream's paths and message shapes (spec §1). */
export interface CrudRoutes {
  service: ArgoObjects
  /** e.g. '/api/v1/workflow-templates'; namespaced kinds add `/{namespace}` */
  base: string
  schemas: { object: ZodType; list: ZodType; deleted: ZodType; listQuery: ZodType; create: ZodType; lint: ZodType; update: ZodType }
}

type Params = { namespace?: string; name?: string }
type Body = Record<string, unknown> & { createOptions?: { dryRun?: string[] } }

const objectOf = (body: Body, field: string): Record<string, unknown> | undefined =>
  body[field] as Record<string, unknown> | undefined

/**
 * Registers list, create, lint, get, update and delete; every call runs with the caller's identity. The tag is
 * `<Kind>Service` and the operationIds `<Kind>Service_<Verb><Kind>` (`List<Kind>s`), as upstream's swagger.
 */
export function crudRoutes(app: FastifyInstance, c: CrudRoutes): void {
  const r = typedRoutes(app)
  const { service, schemas: s } = c
  const { kind, field, res: { namespaced } } = service.kind
  const tags = [`${kind}Service`]
  const op = (verb: string) => `${kind}Service_${verb}${kind}${verb === 'List' ? 's' : ''}`
  const collection = namespaced ? `${c.base}/:namespace` : c.base
  const item = namespaced ? `${c.base}/:namespace/:name` : `${c.base}/:name`
  const itemParams = namespaced ? NamespaceNameParams : NameParams
  const collectionParams = namespaced ? { params: NamespaceParams } : {}
  const ns = (p: Params) => p.namespace ?? ''

  // Namespaced lists also answer an empty namespace segment: every namespace (spec §2.1); shown once.
  const lists = namespaced ? [[collection, false], [`${c.base}/`, true]] as const : [[collection, false]] as const
  for (const [url, hide] of lists) {
    r.get(url, {
      schema: { hide, operationId: op('List'), tags, ...collectionParams, querystring: s.listQuery, response: { 200: s.list } },
    }, async (req, reply) => {
      const q = listQueryOf(req.query as Parameters<typeof listQueryOf>[0])
      return sendJson(reply, await service.list(identityOf(req), ns(req.params as Params), q))
    })
  }

  r.post(collection, {
    schema: { operationId: op('Create'), tags, ...collectionParams, body: s.create, response: { 200: s.object } },
  }, async (req, reply) => {
    const body = req.body as Body
    return sendJson(reply, await service.create(identityOf(req), ns(req.params as Params), objectOf(body, field), isDryRun(body.createOptions)))
  })

  r.post(`${collection}/lint`, {
    schema: { operationId: op('Lint'), tags, ...collectionParams, body: s.lint, response: { 200: s.object } },
  }, async (req, reply) => sendJson(reply, await service.lint(identityOf(req), ns(req.params as Params), objectOf(req.body as Body, field))))

  r.get(item, {
    schema: { operationId: op('Get'), tags, params: itemParams, querystring: GetQuery, response: { 200: s.object } },
  }, async (req, reply) => {
    const p = req.params as Params
    return sendJson(reply, service.wire(await service.get(identityOf(req), ns(p), p.name ?? '')))
  })

  r.put(item, {
    schema: { operationId: op('Update'), tags, params: itemParams, body: s.update, response: { 200: s.object } },
  }, async (req, reply) => {
    const p = req.params as Params
    return sendJson(reply, await service.update(identityOf(req), ns(p), p.name ?? '', objectOf(req.body as Body, field)))
  })

  // deleteOptions are accepted and, as upstream's template servers, not passed on.
  r.delete(item, {
    schema: { operationId: op('Delete'), tags, params: itemParams, querystring: DeleteQuery, response: { 200: s.deleted } },
  }, async (req, reply) => {
    const p = req.params as Params
    await service.delete(identityOf(req), ns(p), p.name ?? '')
    return sendJson(reply, {})
  })
}
