import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { identityOf, type Identity } from '../auth/index.js'
import { NamespaceNameParams, NamespaceParams } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import {
  WorkflowResubmitRequest, WorkflowResumeRequest, WorkflowRetryRequest, WorkflowSetRequest, WorkflowStopRequest,
  WorkflowSubmitRequest, WorkflowSuspendRequest, WorkflowTerminateRequest,
} from './action-schemas.js'
import type { WorkflowActions } from './actions.js'
import { Workflow } from './schemas.js'
import type { SubmitRequest } from './submit.js'
import { SubmissionHeaders, type AnswerSubmission, type ApiWorkflow, type Decorate } from './submission-hook.js'
import { typedRoutes } from '../http/openapi.js'

const tags = ['WorkflowService']

/** What the submit route calls: SubmitService, or a wrapper around it. */
export interface Submitter {
  submit(identity: Identity, namespace: string, body: SubmitRequest, decorate?: Decorate): Promise<ApiWorkflow>
}

/** SubmitWorkflow and the actions (spec §1, §2.6, §2.7); paths and operationIds as upstream's swagger. */
export function workflowActionRoutes(app: FastifyInstance, deps: { submit: Submitter; actions: WorkflowActions; answer: AnswerSubmission }): void {
  const r = typedRoutes(app)
  const { actions } = deps

  r.post('/api/v1/workflows/:namespace/submit', {
    schema: { operationId: 'WorkflowService_SubmitWorkflow', tags, params: NamespaceParams, headers: SubmissionHeaders, body: WorkflowSubmitRequest, response: { 200: Workflow, 202: Workflow } },
  }, async (req, reply) => {
    // Idempotency-Key and Prefer: wait (ours, src/wait/submission.ts) wrap the submit as they wrap create.
    const { namespace } = req.params
    const body = req.body ?? {}
    const dryRun = body.submitOptions?.dryRun === true || body.submitOptions?.serverDryRun === true
    return deps.answer(req, reply, { kind: 'submit', namespace, body, dryRun }, (decorate) => deps.submit.submit(identityOf(req), namespace, body, decorate))
  })

  /** One PUT action route: its upstream body schema, and the service call it makes. */
  const action = <S extends z.ZodType>(name: string, operationId: string, body: S, run: (identity: Identity, namespace: string, wfName: string, b: z.infer<S>) => Promise<unknown>) => {
    r.put(`/api/v1/workflows/:namespace/:name/${name}`, {
      schema: { operationId, tags, params: NamespaceNameParams, body, response: { 200: Workflow } },
    }, async (req, reply) => {
      const b = (req.body ?? {}) as z.infer<S>
      return sendJson(reply, await run(identityOf(req), req.params.namespace, req.params.name, b))
    })
  }

  action('retry', 'WorkflowService_RetryWorkflow', WorkflowRetryRequest, (id, ns, n, b) => actions.retry(id, ns, n, b))
  action('resubmit', 'WorkflowService_ResubmitWorkflow', WorkflowResubmitRequest, (id, ns, n, b) => actions.resubmit(id, ns, n, b))
  action('resume', 'WorkflowService_ResumeWorkflow', WorkflowResumeRequest, (id, ns, n, b) => actions.resume(id, ns, n, b.nodeFieldSelector))
  action('suspend', 'WorkflowService_SuspendWorkflow', WorkflowSuspendRequest, (id, ns, n) => actions.suspend(id, ns, n))
  action('terminate', 'WorkflowService_TerminateWorkflow', WorkflowTerminateRequest, (id, ns, n) => actions.terminate(id, ns, n))
  action('stop', 'WorkflowService_StopWorkflow', WorkflowStopRequest, (id, ns, n, b) => actions.stop(id, ns, n, b))
  action('set', 'WorkflowService_SetWorkflow', WorkflowSetRequest, (id, ns, n, b) => actions.set(id, ns, n, b))
}
