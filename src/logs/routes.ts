import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { identityOf, type Identity } from '../auth/index.js'
import { EventStream, type StreamSettings } from '../http/stream.js'
import type { OutageNotice } from '../kube/watch-hub.js'
import type { WorkflowService } from '../workflows/index.js'
import {
  LogEntryStream, PodLogsParams, PodLogsQuery, WorkflowLogsParams, WorkflowLogsQuery, toLogRequest,
  type LogQuery, type LogRequest,
} from './request.js'
import { LogService } from './service.js'
import { typedRoutes } from '../http/openapi.js'

const tags = ['WorkflowService']

export interface LogRoutesDeps {
  workflows: WorkflowService
  stream?: StreamSettings
  /** follow mode: how long an entry may wait for a silent pod (upstream: 1 s batches) */
  lingerMs?: number
  /** the server's shared watch, which tells when the Kubernetes API is out */
  outages?: OutageNotice
  /** matching time one stream's grep may use (--log-grep-budget-seconds) */
  grepBudgetMs?: number
}

/** Upstream's SSE heartbeat (spec §3); a client may fall 8 MiB behind before it is cut off. */
const DEFAULT_STREAM: StreamSettings = { heartbeatMs: 15_000, maxBufferBytes: 8 * 1024 * 1024 }

/** WorkflowService_WorkflowLogs and the deprecated WorkflowService_PodLogs (spec §1, §2.8): streams (spec §3). */
export function logRoutes(app: FastifyInstance, deps: LogRoutesDeps): void {
  const r = typedRoutes(app)
  const settings = deps.stream ?? DEFAULT_STREAM
  const service = new LogService({
    workflows: deps.workflows,
    lingerMs: deps.lingerMs,
    outages: deps.outages,
    log: (msg, err) => app.log.debug({ err }, msg),
  })

  const serve = async (req: FastifyRequest, reply: FastifyReply, params: { namespace: string; name: string }, q: LogQuery) => {
    // Authentication first, in the stream's error format (spec §3: it fails in RecvMsg upstream).
    let identity: Identity
    try {
      identity = identityOf(req)
    } catch (err) {
      return new EventStream(req, reply, settings).fail(err)
    }
    // A bad query (grep, negative tailLines…) is a unary 400 before the stream exists, like other bad parameters.
    const request: LogRequest = toLogRequest(params.namespace, params.name, q, deps.grepBudgetMs)
    const out = new EventStream(req, reply, settings)
    try {
      await service.stream(identity, request, out)
    } catch (err) {
      out.fail(err)
    }
  }

  r.get('/api/v1/workflows/:namespace/:name/log', {
    config: { stream: true },
    schema: {
      operationId: 'WorkflowService_WorkflowLogs', tags, params: WorkflowLogsParams, querystring: WorkflowLogsQuery,
      response: { 200: LogEntryStream },
    },
  }, (req, reply) => serve(req, reply, req.params, req.query))

  r.get('/api/v1/workflows/:namespace/:name/:podName/log', {
    config: { stream: true },
    schema: {
      operationId: 'WorkflowService_PodLogs', tags, deprecated: true, params: PodLogsParams, querystring: PodLogsQuery,
      response: { 200: LogEntryStream },
    },
  }, (req, reply) => serve(req, reply, req.params, { ...req.query, podName: req.params.podName }))
}
