import type { AccessReview, Identity } from '../auth/index.js'
import { ApiError, isNotFound } from '../http/errors.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import { formatProblems, lintProblems } from '../lib/argo-schema/index.js'
import { applyCreatorLabels } from '../lib/creator-labels.js'
import { applyFields, parseFields } from '../lib/fields.js'
import { isManagedBy, withInstanceIdLabel } from '../lib/instance-id.js'
import { asObject } from '../lib/records.js'
import { hydrateNodes, nodeStorage, type NodeStorage, type OffloadedNodeSource } from './hydrate.js'
import type { ApiWorkflow } from './submission-hook.js'
import { toApiObject } from './workflow-index.js'
import type { WorkflowStore } from './workflow-store.js'

export interface WorkflowServiceDeps {
  store: WorkflowStore
  access: AccessReview
  instanceId: string
  /** WF_DEL_PROPAGATION_POLICY (default Background): the client's deleteOptions are ignored, as upstream */
  propagationPolicy: string
  /** the archive fall-back of Get (spec §2.5); it authorizes the caller itself */
  archive?: { findForGet(identity: Identity, namespace: string, name: string, uid?: string): Promise<KubeObject | undefined> }
  /** where the controller offloads node status (with persistence), for Get's hydration (spec §2.5) */
  offloaded?: OffloadedNodeSource
}

export interface CreateRequest {
  namespace: string
  workflow?: Record<string, unknown>
  serverDryRun?: boolean
  createOptions?: { dryRun?: string[] }
  /** applied to the object just before validation and create (idempotency naming, src/wait/idempotency.ts) */
  decorate?: (wf: KubeObject) => Promise<KubeObject>
}


/** Create, get, delete and lint: WorkflowService's unary core (spec §2.2, §2.5, §2.6). */
export class WorkflowService {
  readonly #d: WorkflowServiceDeps

  constructor(deps: WorkflowServiceDeps) {
    this.#d = deps
  }

  /** The workflow as it will be created: namespace from the path, instance-ID and creator labels stamped. */
  #prepare(identity: Identity, namespace: string, workflow: Record<string, unknown> | undefined, missing: string): KubeObject {
    if (!workflow || typeof workflow !== 'object') throw ApiError.invalidArgument(missing)
    const metadata = asObject(workflow.metadata)
    if (!metadata.namespace) metadata.namespace = namespace
    let labels = asObject(metadata.labels) as Record<string, string>
    labels = withInstanceIdLabel(labels, this.#d.instanceId)
    labels = applyCreatorLabels(labels, identity.claims)
    metadata.labels = labels
    return { ...workflow, apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata }
  }

  #validate(wf: KubeObject, lint: boolean): void {
    const problems = lintProblems('Workflow', wf, { lint })
    if (problems.length) throw ApiError.invalidArgument(formatProblems(problems))
  }

  async create(identity: Identity, req: CreateRequest): Promise<ApiWorkflow> {
    const prepared = this.#prepare(identity, req.namespace, req.workflow, 'workflow body not specified')
    const wf = req.decorate ? await req.decorate(prepared) : prepared
    this.#validate(wf, false)
    if (req.createOptions?.dryRun?.length) return toApiObject(wf)
    const created = await identity.kube.create(Workflows, req.namespace, wf, { dryRun: req.serverDryRun === true })
    if (!req.serverDryRun) this.#d.store.observe(created)
    return toApiObject(created)
  }

  /**
   * Deviation: upstream answers a failed workflow lint with 500 code 2; we use 400 code 3, as its template lints do,
   * and list every problem.
   */
  lint(identity: Identity, namespace: string, workflow: Record<string, unknown> | undefined): ApiWorkflow {
    const wf = this.#prepare(identity, namespace, workflow, 'unable to get a workflow')
    this.#validate(wf, true)
    return toApiObject(wf)
  }

  /** `@latest` = the newest by creationTimestamp the caller may list; no instance-ID filter (spec §2.2). */
  async resolveName(identity: Identity, namespace: string, name: string): Promise<string> {
    if (name !== '@latest') return name
    await this.#d.access.require(identity, { verb: 'list', group: 'argoproj.io', resource: 'workflows', namespace },
      listDenied(namespace))
    const latest = this.#d.store.latest(namespace)
    if (!latest) throw ApiError.notFound('no workflows found')
    return latest.name
  }

  async get(identity: Identity, namespace: string, name: string, opts: { uid?: string; fields?: string }): Promise<unknown> {
    const { wf } = await this.find(identity, namespace, name, opts.uid)
    const masked = applyFields<Record<string, unknown>>(toApiObject(wf), parseFields(opts.fields))
    // Decoded back into a Workflow upstream: the three top-level keys always serialize.
    return { metadata: masked.metadata ?? {}, spec: masked.spec ?? {}, status: masked.status ?? {} }
  }

  /**
   * The workflow Get answers (`@latest`, the archive fall-back, the instance ID), with the nodes the controller
   * compressed or offloaded put back (any it cannot restore stay where the field says), and where they were kept.
   */
  async find(identity: Identity, namespace: string, name: string, uid?: string): Promise<{ wf: KubeObject; storage: NodeStorage }> {
    const resolved = await this.resolveName(identity, namespace, name)
    const wf = await this.#liveOrArchived(identity, namespace, resolved, uid)
    if (!isManagedBy(wf.metadata.labels, this.#d.instanceId)) {
      throw ApiError.invalidArgument(`'${resolved}' is not managed by the current Argo Server`)
    }
    const storage = nodeStorage(wf.status)
    if (storage !== 'inline') await hydrateNodes(wf.status as Record<string, unknown>, wf.metadata.uid ?? '', this.#d.offloaded)
    return { wf, storage }
  }

  /**
   * The live object; if that fails (any error) or has another uid, the archived one, read only after the caller
   * is authorized (CVE-2024-53862). An archive miss answers the live error; a uid mismatch then is a 404 (upstream
   * panics: 500).
   */
  async #liveOrArchived(identity: Identity, namespace: string, name: string, uid: string | undefined): Promise<KubeObject> {
    let liveErr: unknown
    try {
      const wf = await identity.kube.get(Workflows, namespace, name)
      if (!uid || wf.metadata.uid === uid) return wf
    } catch (err) {
      liveErr = err
    }
    const archived = await this.#d.archive?.findForGet(identity, namespace, name, uid)
    if (archived) return archived
    throw liveErr ?? ApiError.notFound(`workflows.argoproj.io "${name}" not found`)
  }

  async delete(identity: Identity, namespace: string, name: string, force: boolean): Promise<void> {
    const resolved = await this.resolveName(identity, namespace, name)
    if (force) await identity.kube.patch(Workflows, namespace, resolved, { metadata: { finalizers: null } })
    try {
      await identity.kube.delete(Workflows, namespace, resolved, this.#d.propagationPolicy)
    } catch (err) {
      // Clearing the finalizers of a workflow already being deleted lets Kubernetes remove it at once.
      if (!(force && isNotFound(err))) throw err
    }
  }
}

/** Upstream's exact 403 for a list the caller may not make (spec §2.4). */
export function listDenied(namespace: string): string {
  return `Permission denied, you are not allowed to list workflows in namespace "${namespace}". Maybe you want to specify a namespace with query parameter \`.namespace=${namespace}\`?`
}
