import type { FastifyReply, FastifyRequest } from 'fastify'
import { identityOf } from '../auth/index.js'
import { sendJson, sendRawJson } from '../http/reply.js'
import type { AnswerSubmission, ApiWorkflow } from '../workflows/index.js'
import type { Idempotency } from './idempotency.js'
import { preferredWait, type WaitAnswer, type WaitService } from './service.js'

/** Response headers of the extensions (README: submit-and-wait, idempotent submission). */
export const WAIT_RESULT_HEADER = 'Argo-Wait-Result'
export const REPLAYED_HEADER = 'Idempotent-Replayed'

export interface SubmissionDeps {
  wait: WaitService
  idempotency: Idempotency
}

/**
 * The one wrapper around every call that makes a workflow (create, submit-from-template): `Idempotency-Key`
 * (replay or 422, src/wait/idempotency.ts) and `Prefer: wait=N` (answer once the workflow finished, or 202 with
 * its current state at the deadline). `create` makes the workflow, applying `decorate` (if given) to the object
 * just before it is sent to Kubernetes. Without either header the answer is exactly upstream's.
 */
export function submissionAnswerer(d: SubmissionDeps): AnswerSubmission {
  return (req, reply, sub, create) => answerSubmission(d, req, reply, sub, create)
}

async function answerSubmission(d: SubmissionDeps, ...[req, reply, sub, create]: Parameters<AnswerSubmission>): Promise<FastifyReply> {
  const identity = identityOf(req)
  const key = header(req, 'idempotency-key')
  const wanted = sub.dryRun ? undefined : preferredWait(header(req, 'prefer'))
  if (wanted !== undefined) await d.wait.authorize(identity, sub.namespace)
  let workflow: ApiWorkflow
  if (key !== undefined && !sub.dryRun) {
    const r = await d.idempotency.run(identity, key, sub, create)
    workflow = r.workflow
    if (r.replayed) void reply.header(REPLAYED_HEADER, 'true')
  } else {
    workflow = await create()
  }
  if (wanted === undefined) return sendJson(reply, workflow)
  const seconds = d.wait.clamp(wanted)
  void reply.header('Preference-Applied', `wait=${seconds}`)
  return sendWaitAnswer(reply, await d.wait.afterCreate(identity, workflow, seconds, disconnected(reply)))
}

/** 200 with the final state; 202 with the current state when the wait ran out (the workflow keeps running). */
export function sendWaitAnswer(reply: FastifyReply, a: WaitAnswer): FastifyReply {
  void reply.header(WAIT_RESULT_HEADER, a.outcome).code(a.outcome === 'timeout' ? 202 : 200)
  return sendRawJson(reply, a.json)
}

/** Aborts when the client goes away before the answer: the wait ends, the workflow is never touched. */
export function disconnected(reply: FastifyReply): AbortSignal {
  const ac = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort()
  })
  return ac.signal
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

