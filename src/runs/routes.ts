import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { identityOf } from '../auth/index.js'
import { EXTENSION_TAG, typedRoutes } from '../http/openapi.js'
import { int64, NamespaceNameParams } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import { MAX_SUMMARY_RUNS, runHistory, type HistoryDeps, type OwnerKind } from './history.js'

const RunsQuery = z.object({
  'listOptions.limit': int64.optional().meta({ description: 'Runs per page (default 50, at most 2000)' }),
  'listOptions.continue': z.string().optional().meta({ description: 'metadata.continue of the previous page' }),
  summaryRuns: int64.optional().meta({ description: `Summary over the newest N runs, first page only (default 100, at most ${MAX_SUMMARY_RUNS}; 0 = none)` }),
})
const ClusterRunsQuery = RunsQuery.extend({
  namespace: z.string().optional().meta({ description: 'Only runs in this namespace (default: every namespace)' }),
})

const Run = z.object({
  name: z.string(), namespace: z.string(), uid: z.string(), phase: z.string(), message: z.string().optional(),
  createdAt: z.string().optional(), startedAt: z.string().optional(), finishedAt: z.string().optional(),
  durationSeconds: z.number().optional(),
  parameters: z.array(z.object({ name: z.string(), value: z.string().optional() })),
  archived: z.boolean(),
}).meta({ id: 'RunHistoryItem' })

export const RunHistory = z.object({
  metadata: z.object({ continue: z.string().optional() }),
  owner: z.object({ kind: z.string(), namespace: z.string().optional(), name: z.string() }),
  items: z.array(Run),
  summary: z.object({
    window: z.number(), runs: z.number(), running: z.number(), finished: z.number(), succeeded: z.number(), failed: z.number(),
    successRate: z.number().optional(),
    durationSeconds: z.object({ p50: z.number(), p95: z.number(), max: z.number() }).optional(),
  }).optional(),
}).meta({ id: 'RunHistory' })

const description = (what: string) => `Ours (not upstream): the runs of one ${what}, live and archived together, running first then newest
finished first, keyset-paged; the first page carries summary statistics over the newest summaryRuns runs.`

type Query = z.infer<typeof ClusterRunsQuery>

/** Run history per WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow (src/runs/history.ts). */
export function runRoutes(app: FastifyInstance, deps: HistoryDeps): void {
  const r = typedRoutes(app)
  const answer = (kind: OwnerKind, namespace: string, name: string, q: Query, req: Parameters<typeof identityOf>[0]) =>
    runHistory(deps, identityOf(req), {
      kind, namespace, name, limit: q['listOptions.limit'], continue: q['listOptions.continue'], summaryRuns: q.summaryRuns,
    })

  r.get('/api/v1/workflow-templates/:namespace/:name/runs', {
    schema: {
      operationId: 'RunHistory_WorkflowTemplateRuns', tags: [EXTENSION_TAG], description: description('WorkflowTemplate'),
      params: NamespaceNameParams, querystring: RunsQuery, response: { 200: RunHistory },
    },
  }, async (req, reply) => sendJson(reply, await answer('WorkflowTemplate', req.params.namespace, req.params.name, req.query, req)))

  r.get('/api/v1/cron-workflows/:namespace/:name/runs', {
    schema: {
      operationId: 'RunHistory_CronWorkflowRuns', tags: [EXTENSION_TAG], description: description('CronWorkflow'),
      params: NamespaceNameParams, querystring: RunsQuery, response: { 200: RunHistory },
    },
  }, async (req, reply) => sendJson(reply, await answer('CronWorkflow', req.params.namespace, req.params.name, req.query, req)))

  r.get('/api/v1/cluster-workflow-templates/:name/runs', {
    schema: {
      operationId: 'RunHistory_ClusterWorkflowTemplateRuns', tags: [EXTENSION_TAG], description: description('ClusterWorkflowTemplate'),
      params: z.object({ name: z.string() }), querystring: ClusterRunsQuery, response: { 200: RunHistory },
    },
  }, async (req, reply) => sendJson(reply, await answer('ClusterWorkflowTemplate', req.query.namespace ?? '', req.params.name, req.query, req)))
}
