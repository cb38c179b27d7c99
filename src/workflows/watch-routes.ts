import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { identityOf } from '../auth/index.js'
import { typedRoutes } from '../http/openapi.js'
import { NamespaceParams, listOptionsQuery } from '../http/query.js'
import { EventStream, type StreamSettings } from '../http/stream.js'
import { watchWorkflows, type WatchDeps } from './watch.js'

const WatchQuery = z.object({ ...listOptionsQuery, fields: z.string().optional() })
const WatchEvent = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowWatchEvent' })

/** WatchWorkflows (spec §1, §2.9, §3): the empty namespace segment means every namespace, as the UI sends it. */
export function workflowWatchRoutes(app: FastifyInstance, deps: { watch: WatchDeps; stream: StreamSettings }): void {
  const r = typedRoutes(app)
  for (const [url, hide] of [['/api/v1/workflow-events/:namespace', false], ['/api/v1/workflow-events/', true]] as const) {
    r.get(url, {
      config: { stream: true },
      schema: { hide, operationId: 'WorkflowService_WatchWorkflows', tags: ['WorkflowService'], params: NamespaceParams, querystring: WatchQuery, response: { 200: WatchEvent } },
    }, async (req, reply) => {
      const stream = new EventStream(req, reply, deps.stream)
      const lastEventId = req.headers['last-event-id']
      stream.endAfter(Number(req.query['listOptions.timeoutSeconds'] ?? 0))
      try {
        await watchWorkflows(deps.watch, identityOf(req), {
          namespace: req.params.namespace,
          labelSelector: req.query['listOptions.labelSelector'],
          fieldSelector: req.query['listOptions.fieldSelector'],
          resumeFrom: typeof lastEventId === 'string' && lastEventId ? lastEventId : req.query['listOptions.resourceVersion'],
        }, stream)
      } catch (err) {
        stream.fail(err)
      }
    })
  }
}
