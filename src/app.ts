import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Gatekeeper } from './auth/gatekeeper.js'
import { installAuthentication } from './auth/hook.js'
import { installJsonBodyParser } from './http/body.js'
import { installErrorHandler } from './http/error-handler.js'
import { installOpenApi } from './http/openapi.js'
import { infoRoutes } from './info/routes.js'
import { VERSION, type InfoService } from './info/service.js'
import type { ListDeps } from './workflows/list.js'
import { workflowRoutes } from './workflows/routes.js'
import type { WorkflowService } from './workflows/service.js'

export interface AppServices {
  gatekeeper: Gatekeeper
  info: InfoService
  workflows: WorkflowService
  workflowList: ListDeps
}

export interface AppOptions {
  bodyLimit: number
  logger: FastifyServerOptions['logger']
  https?: { key: string; cert: string }
}

/** The HTTP application: plugins, then one line per API service. It does not listen (main.ts does). */
export async function buildApp(opts: AppOptions, s: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger,
    bodyLimit: opts.bodyLimit,
    routerOptions: { ignoreTrailingSlash: false },
    // tokens and cookies never reach the logs
    ...(opts.https ? { https: opts.https } : {}),
  }) as unknown as FastifyInstance
  installErrorHandler(app)
  installJsonBodyParser(app, opts.bodyLimit)
  await installOpenApi(app, VERSION)
  installAuthentication(app, s.gatekeeper)
  app.addHook('onSend', async (req, reply, payload) => {
    // Unary successes carry the version header; errors do not, on purpose (spec §2.1, e2e TestUnauthorized).
    if (reply.statusCode === 200 && req.url.startsWith('/api/') && !req.routeOptions.config.stream) {
      void reply.header('Grpc-Metadata-Argo-Version', VERSION).header('Grpc-Metadata-Content-Type', 'application/grpc')
    }
    return payload
  })

  infoRoutes(app, s.info)
  workflowRoutes(app, { service: s.workflows, list: s.workflowList })
  return app
}
