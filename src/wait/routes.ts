import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { identityOf } from '../auth/index.js'
import { EXTENSION_TAG, typedRoutes } from '../http/openapi.js'
import { int64, NamespaceNameParams } from '../http/query.js'
import { Workflow } from '../workflows/index.js'
import type { WaitService } from './service.js'
import { disconnected, sendWaitAnswer } from './submission.js'

export const WaitWorkflowQuery = z.object({
  timeoutSeconds: int64.optional().meta({ description: 'How long to wait at most; capped by the server (--max-wait-seconds), which is also the default' }),
  uid: z.string().optional().meta({ description: 'Wait on this run of the name only (another run of that name is 404)' }),
})

const description = `Ours (not upstream): answers once the workflow has finished (200, header Argo-Wait-Result: completed), with its
final state even when it was archived or deleted meanwhile (deleted unfinished: 200, Argo-Wait-Result: deleted), or at the
deadline with its current state (202, Argo-Wait-Result: timeout; it keeps running, ask again). Closing the connection only
ends the wait.`

/** `GET /api/v1/workflows/{namespace}/{name}/wait`: wait on an existing workflow (a client that reconnects). */
export function waitRoutes(app: FastifyInstance, wait: WaitService): void {
  const r = typedRoutes(app)
  r.get('/api/v1/workflows/:namespace/:name/wait', {
    schema: {
      operationId: 'Wait_WaitWorkflow', tags: [EXTENSION_TAG], description,
      params: NamespaceNameParams, querystring: WaitWorkflowQuery, response: { 200: Workflow, 202: Workflow },
    },
  }, async (req, reply) => {
    const { namespace, name } = req.params
    const seconds = wait.clamp(req.query.timeoutSeconds)
    return sendWaitAnswer(reply, await wait.existing(identityOf(req), namespace, name, req.query.uid, seconds, disconnected(reply)))
  })
}
