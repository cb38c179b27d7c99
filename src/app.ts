import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Gatekeeper } from './auth/gatekeeper.js'
import { installAuthentication } from './auth/hook.js'
import { installJsonBodyParser } from './http/body.js'
import { clientErrorHandler, frameworkErrors, installErrorHandler, MAX_PARAM_LENGTH } from './http/error-handler.js'
import { staticPage, type StaticPageOptions } from './http/static-page.js'
import { installOpenApi } from './http/openapi.js'
import { installUrlGuard } from './http/query.js'
import { serverFactory } from './http/server-factory.js'
import { installRateLimit, type RateLimitOptions } from './http/rate-limit.js'
import { oauth2Routes } from './auth/sso/routes.js'
import type { Sso } from './auth/sso/sso.js'
import { infoRoutes } from './info/routes.js'
import { VERSION, type InfoService } from './info/service.js'
import type { ListDeps } from './workflows/list.js'
import { workflowRoutes } from './workflows/routes.js'
import { workflowActionRoutes } from './workflows/action-routes.js'
import { WorkflowActions } from './workflows/actions.js'
import { SubmitService } from './workflows/submit.js'
import type { WorkflowService } from './workflows/service.js'
import type { StreamSettings } from './http/stream.js'
import type { WatchDeps } from './workflows/watch.js'
import { workflowWatchRoutes } from './workflows/watch-routes.js'
import type { AccessReview } from './auth/access-review.js'
import { eventRoutes } from './events/routes.js'
import { logRoutes } from './logs/routes.js'
import type { EventWatches } from './events/event-watches.js'
import { archiveRoutes } from './archive/routes.js'
import type { ArchiveService } from './archive/service.js'
import { submissionAnswerer, type SubmissionDeps } from './wait/submission.js'
import { waitRoutes } from './wait/routes.js'
import { runRoutes } from './runs/routes.js'
import { templateRoutes } from './templates/routes.js'
import type { TemplateServices } from './templates/service.js'
import { cronRoutes } from './cron/routes.js'
import type { CronWorkflowService } from './cron/service.js'

export interface AppServices {
  gatekeeper: Gatekeeper
  info: InfoService
  workflows: WorkflowService
  workflowList: ListDeps
  workflowWatch: WatchDeps
  stream: StreamSettings
  /** matching time one log stream's grep may use; absent: the default (src/logs/grep.ts) */
  grepBudgetMs?: number
  access: AccessReview
  eventWatches: EventWatches
  /** ArchivedWorkflowService (without persistence: upstream's null archive) */
  archive: ArchiveService
  /** submit-and-wait and Idempotency-Key (ours) */
  submission: SubmissionDeps
  /** WorkflowTemplateService and ClusterWorkflowTemplateService */
  templates: TemplateServices
  cron: CronWorkflowService
  /** /oauth2/*: absent or without `sso`, they answer 501 as upstream without SSO */
  oauth2?: { sso: Sso | undefined; baseHref: string; redirectUrl: string }
}

export interface AppOptions {
  bodyLimit: number
  /** the server's logger (createLogger); absent: nothing is logged */
  log?: FastifyBaseLogger
  https?: { key: string; cert: string }
  rateLimit: RateLimitOptions
  /** headers of the pages outside the API (the UI's, upstream) */
  staticPage: StaticPageOptions
}

/** The HTTP application: plugins, then one line per API service. It does not listen (main.ts does). */
export async function buildApp(opts: AppOptions, s: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.log ? { loggerInstance: opts.log } : {}),
    bodyLimit: opts.bodyLimit,
    // Far past the longest Kubernetes name (253; Fastify's default of 100 is shorter): a longer name or namespace
    // reaches its handler and gets Kubernetes' own answer, as upstream (404 by name, an empty list in a namespace).
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    // Streams never finish by themselves: closing the server must end them rather than wait for them.
    forceCloseConnections: true,
    // grpc-gateway registers no HEAD: HEAD on an /api/ path is 501 code 12 like any unmatched method (spec §2.1).
    // Fastify's automatic HEAD route ran a stream's GET handler, which never ended the response.
    exposeHeadRoutes: false,
    // HTTP/1.1 and HTTP/2 (h2 by ALPN with TLS, h2c with prior knowledge without), as upstream; `https` still
    // tells fastify the scheme of the address it reports.
    serverFactory: serverFactory(opts.https),
    ...(opts.https ? { https: opts.https } : {}),
    // With `https` set, fastify types the instance as an https one; the factory's server is one http.Server serving
    // both protocols (requests reach the handlers as http.IncomingMessage or its HTTP/2 compatible), as routes expect.
  }) as unknown as FastifyInstance
  installErrorHandler(app, staticPage(opts.staticPage))
  // First of every request's hooks, as upstream's middleware comes before its routes (spec §0, §7.4).
  installRateLimit(app, opts.rateLimit)
  installJsonBodyParser(app, opts.bodyLimit)
  installUrlGuard(app)
  await installOpenApi(app, VERSION)
  installAuthentication(app, s.gatekeeper)
  app.addHook('onSend', async (req, reply, payload) => {
    // Unary successes carry the version header; errors do not, on purpose (spec §2.1, e2e TestUnauthorized).
    if (reply.statusCode === 200 && req.url.startsWith('/api/') && !req.routeOptions.config.stream) {
      void reply.header('Grpc-Metadata-Argo-Version', VERSION).header('Grpc-Metadata-Content-Type', 'application/grpc')
    }
    // Fastify appends `; charset=utf-8` to the JSON it sends; upstream's gateway answers `application/json` (spec §2.1).
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') void reply.header('content-type', 'application/json')
    // HTTP/2 has no Connection header: fastify sets one after a body it could not parse, which Node drops with a warning.
    if (req.raw.httpVersionMajor === 2) void reply.removeHeader('connection')
    return payload
  })

  infoRoutes(app, s.info)
  const answer = submissionAnswerer(s.submission)
  workflowRoutes(app, { service: s.workflows, list: s.workflowList, answer })
  workflowActionRoutes(app, { submit: new SubmitService(s.workflows), actions: new WorkflowActions(s.workflows), answer })
  waitRoutes(app, s.submission.wait)
  runRoutes(app, s.workflowList)
  archiveRoutes(app, s.archive)
  templateRoutes(app, s.templates)
  cronRoutes(app, s.cron)
  workflowWatchRoutes(app, { watch: s.workflowWatch, stream: s.stream })
  logRoutes(app, { workflows: s.workflows, stream: s.stream, outages: s.workflowWatch.hub, grepBudgetMs: s.grepBudgetMs })
  eventRoutes(app, { watches: s.eventWatches, access: s.access, stream: s.stream })
  oauth2Routes(app, s.oauth2?.sso, { baseHref: s.oauth2?.baseHref ?? '/', redirectUrl: s.oauth2?.redirectUrl ?? '' })
  return app
}
