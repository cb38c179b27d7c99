/**
 * WorkflowService's actions (spec §2.7): retry, resubmit, suspend, resume, stop, terminate and set. Each resolves the
 * workflow as Get does (`@latest`, archive fall-back, instance ID), then changes it with the caller's identity.
 * Deviation: upstream answers most refused preconditions with 500; they are the caller's mistake, so 400 here.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Claims, Identity } from '../auth/index.js'
import { ApiError, GrpcCode, hasCode, isNotFound } from '../http/errors.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import { actorLabelPatch, applyActorLabels } from '../lib/creator-labels.js'
import { mergePatch } from '../lib/merge-patch.js'
import { recordOrEmpty, type Rec } from '../lib/records.js'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import { COMPLETED_PHASES, phaseOf } from '../lib/workflow-phase.js'
import { compressNodes, type NodeStorage } from './hydrate.js'
import { formulateResubmit, resumeAll, updateSuspendedNodes, L, type NodeUpdate } from './operations.js'
import { formulateRetry, type RetryOptions } from './retry.js'
import type { WorkflowService } from './service.js'
import type { ApiWorkflow } from './submission-hook.js'
import { toApiObject } from './workflow-index.js'

export interface SetRequest { nodeFieldSelector?: string; phase?: string; message?: string; outputParameters?: string }

/** Deletes the pods of re-run nodes as the caller; one already gone is fine (RetryWorkflow). */
export async function deletePods(identity: Identity, namespace: string, names: string[]): Promise<void> {
  // At most 8 at a time: a retry of a large workflow must not burst thousands of DELETEs at the apiserver.
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(names.slice(i, i + 8).map(async (name) => {
      try {
        await identity.kube.deletePod(namespace, name)
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
    }))
  }
}

/** creator.UserInfoMap as Go prints it in the resume message: `map[Email:… PreferredUsername:… User:…]`. */
function userInfo(c: Claims): string {
  const m: [string, string | undefined][] = [['Email', c.email], ['PreferredUsername', c.preferred_username], ['User', c.sub]]
  return `Resumed by: map[${m.filter(([, v]) => v).map(([k, v]) => `${k}:${v ?? ''}`).join(' ')}]`
}

const SETTABLE = new Set(['Succeeded', 'Failed', 'Error', ''])

export class WorkflowActions {
  readonly #workflows: WorkflowService
  /** where the controller kept each fetched workflow's nodes, so a write puts changed nodes back there */
  readonly #storage = new WeakMap<KubeObject, NodeStorage>()

  constructor(workflows: WorkflowService) {
    this.#workflows = workflows
  }

  /**
   * The workflow as GetWorkflow finds it (spec §2.7: "resolves the workflow … and validates the instance ID"),
   * with its nodes (upstream's actions hydrate first too).
   */
  async #fetch(identity: Identity, namespace: string, name: string): Promise<KubeObject> {
    const { wf, storage } = await this.#workflows.find(identity, namespace, name)
    this.#storage.set(wf, storage)
    // Get falls back to the archive; actions act on live workflows only (upstream's getWorkflow): nothing may be
    // changed (e.g. pods deleted by retry) for a workflow that is gone. Archived ones have their own retry/resubmit.
    if (wf.metadata.labels?.[ARCHIVING_STATUS] === 'Persisted') {
      throw ApiError.notFound(`workflows.argoproj.io "${wf.metadata.name ?? name}" not found`)
    }
    return wf
  }

  async #patch(identity: Identity, wf: KubeObject, body: Rec): Promise<ApiWorkflow> {
    const status = recordOrEmpty(body.status)
    if (status.nodes && this.#storage.get(wf) !== 'inline') {
      // A patch of status.nodes beside compressedNodes would be lost: the controller decompresses over it. The whole
      // map is written instead, so only over the version read (a 409 if the controller changed it meanwhile).
      const nodes = mergePatch(recordOrEmpty(wf.status).nodes, status.nodes)
      body = {
        ...body,
        metadata: { ...recordOrEmpty(body.metadata), resourceVersion: wf.metadata.resourceVersion },
        status: { ...status, nodes: null, compressedNodes: await this.#compressed(wf, nodes) },
      }
    }
    return toApiObject(await identity.kube.patch(Workflows, wf.metadata.namespace ?? '', wf.metadata.name ?? '', body))
  }

  /**
   * Nodes to store back where the controller keeps them (upstream dehydrates before writing). Offloaded nodes
   * would need a new row in the controller's offload table, which this server only reads: refused, nothing changed.
   */
  async #compressed(wf: KubeObject, nodes: unknown): Promise<string> {
    if (this.#storage.get(wf) === 'offloaded') {
      throw new ApiError(GrpcCode.FailedPrecondition, `the nodes of workflow "${wf.metadata.name ?? ''}" are offloaded to the database by the controller; this server does not change offloaded nodes`)
    }
    return compressNodes(nodes)
  }

  /**
   * Re-runs failed (or selected) nodes in place: their pods deleted first, then the workflow updated over the version
   * read. Deviation: upstream's RetryWorkflow answers 409 when any write comes between; the archive labels a workflow
   * right after it fails, just when a caller retries it, so a lost race is done again from a fresh read (the pods
   * already deleted are then not found, which is fine).
   */
  retry(identity: Identity, namespace: string, name: string, opts: RetryOptions): Promise<ApiWorkflow> {
    return onConflictAgain(() => this.#retry(identity, namespace, name, opts))
  }

  async #retry(identity: Identity, namespace: string, name: string, opts: RetryOptions): Promise<ApiWorkflow> {
    const wf = await this.#fetch(identity, namespace, name)
    const { workflow, podsToDelete } = formulateRetry(wf, opts)
    let status = recordOrEmpty(workflow.status)
    // Before any pod is deleted: the nodes go back compressed, or the retry is refused (offloaded).
    if (this.#storage.get(wf) !== 'inline') status = { ...status, nodes: undefined, compressedNodes: await this.#compressed(wf, status.nodes) }
    await deletePods(identity, wf.metadata.namespace ?? namespace, podsToDelete)
    const labels = applyActorLabels(workflow.metadata.labels ?? {}, identity.claims, 'Retry')
    const body = { ...workflow, apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { ...workflow.metadata, labels }, status }
    return toApiObject(await identity.kube.replace(Workflows, wf.metadata.namespace ?? namespace, wf.metadata.name ?? name, body))
  }

  /** A new workflow from this one, created (validated and stamped) like every create, in the path namespace. */
  async resubmit(identity: Identity, namespace: string, name: string, opts: { memoized?: boolean; parameters?: string[] }): Promise<ApiWorkflow> {
    const wf = await this.#fetch(identity, namespace, name)
    const workflow = formulateResubmit(wf, opts)
    return this.#workflows.create(identity, { namespace, workflow })
  }

  async suspend(identity: Identity, namespace: string, name: string): Promise<ApiWorkflow> {
    const wf = await this.#fetch(identity, namespace, name)
    if (wf.metadata.labels?.[`${L}completed`] === 'true') throw ApiError.invalidArgument('cannot suspend completed workflows')
    if (recordOrEmpty(wf.spec).suspend === true) return toApiObject(wf)
    return this.#patch(identity, wf, { metadata: { labels: actorLabelPatch(identity.claims, 'Suspend') }, spec: { suspend: true } })
  }

  /** Clears spec.suspend and completes running suspend nodes, or only the selected ones. */
  resume(identity: Identity, namespace: string, name: string, selector: string | undefined): Promise<ApiWorkflow> {
    return onConflictAgain(() => this.#resume(identity, namespace, name, selector))
  }

  async #resume(identity: Identity, namespace: string, name: string, selector: string | undefined): Promise<ApiWorkflow> {
    const wf = await this.#fetch(identity, namespace, name)
    const labels = actorLabelPatch(identity.claims, 'Resume')
    const message = userInfo(identity.claims)
    if (selector) return this.#patch(identity, wf, { metadata: { labels }, status: updateSuspendedNodes(wf, selector, { phase: 'Succeeded', message }) })
    const nodes = resumeAll(wf, message)
    if (recordOrEmpty(wf.spec).suspend !== true && Object.keys(nodes).length === 0) return toApiObject(wf)
    return this.#patch(identity, wf, { metadata: { labels }, spec: { suspend: null }, ...(Object.keys(nodes).length ? { status: { nodes } } : {}) })
  }

  /** spec.shutdown=Stop (exit handlers still run), or the selected suspend nodes Failed with `message`. */
  stop(identity: Identity, namespace: string, name: string, b: { nodeFieldSelector?: string; message?: string }): Promise<ApiWorkflow> {
    return onConflictAgain(() => this.#stop(identity, namespace, name, b))
  }

  async #stop(identity: Identity, namespace: string, name: string, b: { nodeFieldSelector?: string; message?: string }): Promise<ApiWorkflow> {
    const wf = await this.#fetch(identity, namespace, name)
    if (b.nodeFieldSelector) {
      const status = updateSuspendedNodes(wf, b.nodeFieldSelector, { phase: 'Failed', message: b.message })
      return this.#patch(identity, wf, { metadata: { labels: actorLabelPatch(identity.claims, 'Stop') }, status })
    }
    return this.#shutdown(identity, wf, 'Stop')
  }

  async terminate(identity: Identity, namespace: string, name: string): Promise<ApiWorkflow> {
    return this.#shutdown(identity, await this.#fetch(identity, namespace, name), 'Terminate')
  }

  /** patchShutdownStrategy; a completed workflow is refused (upstream: 500). */
  async #shutdown(identity: Identity, wf: KubeObject, strategy: 'Stop' | 'Terminate'): Promise<ApiWorkflow> {
    if (COMPLETED_PHASES.has(phaseOf(wf))) {
      throw ApiError.invalidArgument(`cannot shutdown a completed workflow: workflow: ${JSON.stringify(wf.metadata.name ?? '')}, namespace: ${JSON.stringify(wf.metadata.namespace ?? '')}`)
    }
    return this.#patch(identity, wf, { metadata: { labels: actorLabelPatch(identity.claims, strategy) }, spec: { shutdown: strategy } })
  }

  /** Sets phase, message or supplied output parameters of selected suspend nodes. */
  set(identity: Identity, namespace: string, name: string, b: SetRequest): Promise<ApiWorkflow> {
    return onConflictAgain(() => this.#set(identity, namespace, name, b))
  }

  async #set(identity: Identity, namespace: string, name: string, b: SetRequest): Promise<ApiWorkflow> {
    const wf = await this.#fetch(identity, namespace, name)
    const phase = b.phase ?? ''
    if (!SETTABLE.has(phase)) throw ApiError.invalidArgument(`${phase} is an invalid phase to set to`)
    const values: NodeUpdate = { phase, message: b.message, outputParameters: parseOutputParameters(b.outputParameters) }
    if (!b.nodeFieldSelector) throw ApiError.invalidArgument("'set' currently only targets suspend nodes, use a node field selector to target them")
    const status = updateSuspendedNodes(wf, b.nodeFieldSelector, values)
    return this.#patch(identity, wf, { metadata: { labels: actorLabelPatch(identity.claims, '') }, status })
  }
}

/**
 * An action that changes nodes, done again from a fresh read when its write lost a race (409): a write of compressed
 * nodes is guarded by the version read, and the controller or the archive (its finalizer, its labels) may write in
 * between. Upstream's suspend and resume do the same (retry.RetryOnConflict with DefaultRetry: 5 attempts).
 */
async function onConflictAgain<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action()
    } catch (err) {
      if (attempt >= 5 || !hasCode(err, GrpcCode.AlreadyExists)) throw err
      await sleep(10 * attempt)
    }
  }
}

/** `outputParameters` is a JSON-encoded map of strings (spec §2.7); anything else is a 400. */
function parseOutputParameters(s: string | undefined): Record<string, string> {
  if (!s) return {}
  let v: unknown
  try {
    v = JSON.parse(s)
  } catch (err) {
    throw ApiError.invalidArgument(`unable to parse output parameter set request: ${(err as Error).message}`)
  }
  const ok = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
  if (!ok) throw ApiError.invalidArgument('unable to parse output parameter set request: expected an object of strings')
  return v as Record<string, string>
}
