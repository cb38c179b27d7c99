import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { KubeObject } from '../kube/resources.js'
import type { toApiObject } from './workflow-index.js'

/** The Idempotency-Key as the client sent it, and the hash of its first request, kept on the workflow itself. */
export const KEY_ANNOTATION = 'workflows.argoproj.io/idempotency-key'
export const REQUEST_HASH_ANNOTATION = 'workflows.argoproj.io/idempotency-request-sha256'
/** A label (values ≤ 63 chars) so the watch-fed cache finds the workflow of a key by its label index. */
export const KEY_LABEL = 'workflows.argoproj.io/idempotency-key-hash'

export type ApiWorkflow = ReturnType<typeof toApiObject>

/** Applied to a workflow just before it is validated and sent to Kubernetes (e.g. idempotency naming). */
export type Decorate = (wf: KubeObject) => Promise<KubeObject>

/** What a request that makes a workflow asked for. */
export interface Submission {
  kind: 'create' | 'submit'
  namespace: string
  body: unknown
  dryRun: boolean
}

/**
 * Answers a request that makes a workflow (create, submit-from-template). Defined here and implemented by
 * src/wait (Idempotency-Key, Prefer: wait), so WorkflowService's routes do not depend on that feature.
 */
export type AnswerSubmission = (
  req: FastifyRequest, reply: FastifyReply, sub: Submission, create: (decorate?: Decorate) => Promise<ApiWorkflow>,
) => Promise<FastifyReply>

/** The request headers of those extensions, declared on create and submit (and so in the OpenAPI document). */
export const SubmissionHeaders = z.looseObject({
  'idempotency-key': z.string().optional().meta({ description: 'Ours: the same key with the same body within the retention window returns the original workflow (Idempotent-Replayed: true); with another body 422' }),
  prefer: z.string().optional().meta({ description: 'Ours: "wait=N" answers once the workflow finished (200) or after N seconds at most (202, its current state); header Argo-Wait-Result' }),
})
