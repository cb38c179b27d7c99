import type { AccessReview, Identity } from '../auth/index.js'
import { ApiError, isNotFound, unlessDenied } from '../http/errors.js'
import { toWireJson } from '../http/wire.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import { isManagedBy } from '../lib/instance-id.js'
import { COMPLETED_PHASES } from '../lib/workflow-phase.js'
import { toApiObject } from '../workflows/index.js'
import { phaseOfJson, type WaitOutcome, type WorkflowWaiters } from './waiters.js'

export interface WaitDeps {
  waiters: WorkflowWaiters
  access: AccessReview
  instanceId: string
  /** resolves when the watch-fed cache holds a full list */
  ready: () => Promise<void>
  /** the archive fall-back of GetWorkflow: authorizes the caller itself; undefined without persistence */
  archive?: { findForGet(identity: Identity, namespace: string, name: string, uid?: string): Promise<KubeObject | undefined> }
  /** --max-wait-seconds */
  maxWaitSeconds: number
  /** a workflow's wire JSON with its compressed or offloaded nodes put back, as Get answers it */
  hydrate?: (json: string) => Promise<string>
}

export interface WaitAnswer {
  outcome: WaitOutcome
  json: Buffer | string
  /** the wait actually applied, after the server maximum */
  seconds: number
}

interface WorkflowLike { metadata?: { uid?: string; name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; status?: unknown }

const json = (o: unknown): string => toWireJson(o)

/** Wait for a workflow's outcome: after a create or submit, or for an existing workflow (a reconnecting client). */
export class WaitService {
  readonly #d: WaitDeps

  constructor(deps: WaitDeps) {
    this.#d = deps
  }

  /** The wait actually applied: the request's, at most the server's maximum; absent = the maximum. */
  clamp(seconds: number | undefined): number {
    const max = this.#d.maxWaitSeconds
    return seconds === undefined || seconds > max ? max : Math.max(0, seconds)
  }

  /**
   * The waited answer reveals the workflow's later state (outputs, messages), so the caller must be allowed to
   * get workflows there; checked before anything is created.
   */
  async authorize(identity: Identity, namespace: string): Promise<void> {
    await this.#d.access.require(identity, { verb: 'get', group: 'argoproj.io', resource: 'workflows', namespace },
      `Permission denied, you are not allowed to get workflows in namespace "${namespace}", which waiting requires.`)
  }

  /** Waits on a workflow this request just created (or replayed). */
  async afterCreate(identity: Identity, wf: WorkflowLike, seconds: number, signal: AbortSignal): Promise<WaitAnswer> {
    return this.#hydrated(await this.#wait(identity, wf, json(wf), seconds, signal))
  }

  /** Archived copies hold their nodes already (the archiver hydrates); live ones may not. */
  async #hydrated(a: WaitAnswer): Promise<WaitAnswer> {
    return this.#d.hydrate ? { ...a, json: await this.#d.hydrate(a.json.toString()) } : a
  }

  /** GET …/wait: the live workflow (with the caller's identity), else its archived copy, then its outcome. */
  async existing(identity: Identity, namespace: string, name: string, uid: string | undefined, seconds: number, signal: AbortSignal): Promise<WaitAnswer> {
    let live: KubeObject | undefined
    try {
      live = await identity.kube.get(Workflows, namespace, name)
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    if (live && (!uid || live.metadata.uid === uid)) {
      if (!isManagedBy(live.metadata.labels, this.#d.instanceId)) throw ApiError.invalidArgument(`'${name}' is not managed by the current Argo Server`)
      const api = toApiObject(live)
      return this.#hydrated(await this.#wait(identity, api, json(api), seconds, signal))
    }
    // Gone from Kubernetes (or another run of that name now): the archived run is final by definition.
    const archived = await this.#d.archive?.findForGet(identity, namespace, name, uid)
    if (archived) return { outcome: 'completed', json: json(archived), seconds }
    throw ApiError.notFound(`workflows.argoproj.io "${name}" not found`)
  }

  async #wait(identity: Identity, wf: WorkflowLike, wire: string, seconds: number, signal: AbortSignal): Promise<WaitAnswer> {
    const uid = wf.metadata?.uid
    if (!uid) throw ApiError.internal('the workflow has no uid')
    const phase = phaseOfJson(wire)
    if (COMPLETED_PHASES.has(phase)) return { outcome: 'completed', json: wire, seconds }
    await this.#d.ready()
    const start = { uid, resourceVersion: Number(wf.metadata?.resourceVersion ?? 0) || 0, phase, json: wire }
    const r = await this.#d.waiters.wait(start, seconds * 1000, signal)
    const last = r.json ?? wire
    if (r.outcome !== 'deleted') return { outcome: r.outcome, json: last, seconds }
    // Deleted before this server saw it finish: another replica may have archived its final state.
    const { namespace = '', name = '' } = wf.metadata ?? {}
    // An archive that cannot be read (503) is said so, not taken for "deleted without a row": waiting again tells.
    const archived = await this.#d.archive?.findForGet(identity, namespace, name, uid).catch(unlessDenied)
    if (archived) return { outcome: 'completed', json: json(archived), seconds }
    return { outcome: 'deleted', json: last, seconds }
  }
}

/** `Prefer: wait=N` (RFC 7240 §4.3), possibly among other preferences; undefined when absent. */
export function preferredWait(header: string | undefined): number | undefined {
  if (!header) return undefined
  const m = /(?:^|[,;]\s*)wait\s*=\s*"?(\d+)"?/i.exec(header)
  if (!m) return undefined
  return Number(m[1])
}
