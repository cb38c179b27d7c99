import type { AccessReview } from '../auth/index.js'
import type { WorkflowStore } from '../workflows/index.js'
import { Idempotency, type IdempotencyDeps } from './idempotency.js'
import { WaitService } from './service.js'
import type { SubmissionDeps } from './submission.js'
import { WorkflowWaiters } from './waiters.js'

export interface SubmissionOptions {
  store: WorkflowStore
  access: AccessReview
  instanceId: string
  ready: () => Promise<void>
  archive?: IdempotencyDeps['archive']
  maxWaitSeconds: number
  windowSeconds: number
  hydrate?: (json: string) => Promise<string>
}

/** Submit-and-wait and idempotent submission over the server's one watch-fed store. */
export function startSubmission(o: SubmissionOptions): SubmissionDeps & { waiters: WorkflowWaiters } {
  const waiters = new WorkflowWaiters(o.store)
  const wait = new WaitService({ waiters, access: o.access, instanceId: o.instanceId, ready: o.ready, archive: o.archive, maxWaitSeconds: o.maxWaitSeconds, hydrate: o.hydrate })
  const idempotency = new Idempotency({ store: o.store, archive: o.archive, windowSeconds: o.windowSeconds })
  return { wait, idempotency, waiters }
}
