import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { identityOf, type AccessReview } from '../auth/index.js'
import { typedRoutes } from '../http/openapi.js'
import { NamespaceParams, listOptionsQuery } from '../http/query.js'
import { EventStream, type StreamSettings } from '../http/stream.js'
import type { EventWatches } from './event-watches.js'
import { watchEvents } from './watch.js'

const Query = z.object({ ...listOptionsQuery })
const Event = z.looseObject({}).meta({ id: 'io.k8s.api.core.v1.Event' })

/** WorkflowService_WatchEvents (spec §1, §2.9): core/v1 Events, e.g. `involvedObject.kind=Workflow,involvedObject.name=x`. */
export function eventRoutes(app: FastifyInstance, deps: { watches: EventWatches; access: AccessReview; stream: StreamSettings }): void {
  const r = typedRoutes(app)
  for (const [url, hide] of [['/api/v1/stream/events/:namespace', false], ['/api/v1/stream/events/', true]] as const) {
    r.get(url, {
      config: { stream: true },
      schema: { hide, operationId: 'WorkflowService_WatchEvents', tags: ['WorkflowService'], params: NamespaceParams, querystring: Query, response: { 200: Event } },
    }, async (req, reply) => {
      const stream = new EventStream(req, reply, deps.stream)
      stream.endAfter(Number(req.query['listOptions.timeoutSeconds'] ?? 0))
      const lastEventId = req.headers['last-event-id']
      try {
        await watchEvents(deps, identityOf(req), {
          namespace: req.params.namespace,
          labelSelector: req.query['listOptions.labelSelector'],
          fieldSelector: req.query['listOptions.fieldSelector'],
          resume: typeof lastEventId === 'string' && lastEventId ? lastEventId : req.query['listOptions.resourceVersion'],
        }, stream)
      } catch (err) {
        stream.fail(err)
      }
    })
  }
}
