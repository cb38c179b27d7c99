import type { AccessReview, Identity } from '../auth/index.js'
import { ApiError, isNotFound } from '../http/errors.js'
import { toWireJson } from '../http/wire.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import type { Requirement } from '../lib/label-selector.js'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import { assemble, deletePods, encodeContinue, formulateResubmit, formulateRetry, listDenied, parseListRequest, parseSelector } from '../workflows/index.js'
import { createAs } from './actions.js'
import type { ArchiveReader } from './archive-read-repository.js'
import type { ArchiveWriter } from './archive-repository.js'
import type { ArchiveFilter } from './types.js'

export interface ArchivedListRequest {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continue?: string
  namePrefix?: string
  nameFilter?: string
}

export interface ArchiveServiceDeps {
  /** undefined: no persistence configured (upstream's null archive, spec §6.4) */
  reader?: ArchiveReader
  writer?: ArchiveWriter
  access: AccessReview
  instanceId: string
  /** DISABLE_VALUE_LIST_RETRIEVAL_KEY_PATTERN */
  disableValuesPattern?: RegExp
  /**
   * WorkflowService.create: a resubmitted archived workflow is validated, stamped and cached like every create
   * (upstream submits it with util.SubmitWorkflow). A retry is created as it is, as upstream does.
   */
  create?: (identity: Identity, req: { namespace: string; workflow: Record<string, unknown> }) => Promise<unknown>
}

type Wf = Record<string, unknown> & { metadata: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> } }

const NOT_SUPPORTED = 'getting archived workflows not supported'
// Any requirement object works: parseListRequest appends it and the archive's instanceid column replaces it.
const placeholder: Requirement = { key: 'x', operator: 'exists', values: [] }
const WF = { group: 'argoproj.io', resource: 'workflows' }

/** The archive as read back: always labelled Persisted (spec §6.2 step 3), only metadata, spec and status. */
export function persisted(w: Record<string, unknown>): Wf {
  const md = (w.metadata ?? {}) as Wf['metadata']
  return { metadata: { ...md, labels: { ...md.labels, [ARCHIVING_STATUS]: 'Persisted' } }, spec: w.spec ?? {}, status: w.status ?? {} }
}

/** ArchivedWorkflowService (spec §1, §6.3, §6.4): every read and delete authorized for the caller first. */
export class ArchiveService {
  readonly #d: ArchiveServiceDeps

  constructor(deps: ArchiveServiceDeps) {
    this.#d = deps
  }

  get enabled(): boolean {
    return this.#d.reader !== undefined
  }

  #reader(message = NOT_SUPPORTED): ArchiveReader {
    if (!this.#d.reader) throw ApiError.internal(message)
    return this.#d.reader
  }

  async list(identity: Identity, r: ArchivedListRequest): Promise<string | Buffer> {
    const q = parseListRequest({ ...r, namespace: r.namespace ?? '' }, placeholder)
    const authNs = q.namespaceNot ? '' : q.namespace
    await this.#d.access.require(identity, { ...WF, verb: 'list', namespace: authNs }, listDenied(authNs))
    // Without persistence the list is empty, as upstream's null archive.
    if (!this.#d.reader) return '{"metadata":{},"items":null}'
    const filter: ArchiveFilter = {
      ...q, labels: q.labels.filter((l) => l !== placeholder), namePrefix: r.namePrefix, limit: q.limit + 1,
    }
    const rows = await this.#d.reader.list(filter)
    const page = rows.slice(0, q.limit)
    const metadata: Record<string, unknown> = {}
    const last = page[page.length - 1]
    if (rows.length > q.limit && last) metadata.continue = encodeContinue(last)
    if (q.countRemaining && last) metadata.remainingItemCount = await this.#d.reader.countUpTo({ ...filter, after: last, offset: undefined, limit: 0 }, 1_000_000)
    return assemble(toWireJson(metadata), page)
  }

  /** By uid, else the latest run of (namespace, name); then authorized `verb` on it (spec §6.4). */
  async #resolve(identity: Identity, verb: string, uid: string, namespace?: string, name?: string): Promise<Wf> {
    if (!uid && !(namespace && name)) throw ApiError.invalidArgument('both name and namespace are required if uid is not specified')
    const reader = this.#reader()
    // By name the namespace is known: authorized before anything is read, as the Get fall-back is.
    if (!uid) await this.#d.access.require(identity, { ...WF, verb, namespace: namespace as string, name }, 'permission denied')
    const found = uid ? await reader.getByUid(uid) : await reader.getByName(namespace as string, name as string)
    if (!found) {
      // Nothing about what the archive holds before it is known who asks: a bad token is 401 here too, not 404
      // (upstream reads first and authorizes only what it found). The review's answer does not matter.
      if (uid) await this.#d.access.can(identity, { ...WF, verb, namespace: '' })
      throw ApiError.notFound('not found')
    }
    const wf = persisted(found)
    const ns = wf.metadata.namespace ?? ''
    await this.#d.access.require(identity, { ...WF, verb, namespace: ns, name: wf.metadata.name }, 'permission denied')
    return wf
  }

  get(identity: Identity, uid: string, namespace?: string, name?: string): Promise<Wf> {
    return this.#resolve(identity, 'get', uid, namespace, name)
  }

  async delete(identity: Identity, uid: string, namespace?: string, name?: string): Promise<void> {
    const wf = await this.#resolve(identity, 'delete', uid, namespace, name)
    if (!this.#d.writer || !(await this.#d.writer.delete(wf.metadata.uid ?? ''))) throw ApiError.notFound('not found')
  }

  /**
   * The archive fall-back of GetWorkflow (spec §2.5): authorized `get` on (namespace, name) before anything is
   * read, so a fake token is 401 and a caller without `get workflows` 403 (CVE-2024-53862).
   */
  async findForGet(identity: Identity, namespace: string, name: string, uid?: string): Promise<Wf | undefined> {
    if (!this.#d.reader) return undefined
    await this.#d.access.require(identity, { ...WF, verb: 'get', namespace, name }, 'permission denied')
    const found = uid ? await this.#d.reader.getByUid(uid) : await this.#d.reader.getByName(namespace, name)
    if (!found) return undefined
    const wf = persisted(found)
    return wf.metadata.namespace === namespace && wf.metadata.name === name ? wf : undefined
  }

  /** Label keys of the namespace the caller may list workflows in, all with cluster-wide list (spec §6.3: upstream's
   * are unscoped and unauthorized); an empty `{}` without persistence. */
  async labelKeys(identity: Identity, namespace: string): Promise<{ items?: string[] }> {
    await this.#d.access.require(identity, { ...WF, verb: 'list', namespace }, listDenied(namespace))
    if (!this.#d.reader) return {}
    const items = await this.#d.reader.labelKeys(namespace)
    return items.length ? { items } : {}
  }

  /** Values of one key, named by exactly one Exists requirement (spec §6.4). */
  async labelValues(identity: Identity, namespace: string, labelSelector: string | undefined): Promise<{ items?: string[] }> {
    const reqs = parseSelector(labelSelector)
    if (reqs.length !== 1) throw ApiError.invalidArgument(`only allow 1 labelRequirement, found ${reqs.length}`)
    const req = reqs[0] as Requirement
    // Named as upstream prints apimachinery's selection.Operator: `gt` and `lt` for `>` and `<`.
    const operator = req.operator === '>' ? 'gt' : req.operator === '<' ? 'lt' : req.operator
    if (req.operator !== 'exists') throw ApiError.invalidArgument(`operation ${operator} is not supported`)
    await this.#d.access.require(identity, { ...WF, verb: 'list', namespace }, listDenied(namespace))
    if (!this.#d.reader) return {}
    if (this.#d.disableValuesPattern?.test(req.key)) return { items: [] }
    const items = await this.#d.reader.labelValues(req.key, namespace)
    return items.length ? { items } : {}
  }

  /** Re-creates a failed archived workflow (spec §6.4): 409 while a live workflow of that name exists. */
  async retry(identity: Identity, uid: string, b: ActionRequest & { restartSuccessful?: boolean; nodeFieldSelector?: string }): Promise<unknown> {
    const wf = await this.#resolve(identity, 'get', uid, b.namespace, b.name)
    const { namespace = '', name = '' } = wf.metadata
    // Upstream looks for a live workflow of that name in the body's namespace (409), then creates the retried one
    // there, which the apiserver refuses for any other than the workflow's own (400, InvalidArgument through
    // ToStatusError); ours takes the workflow's namespace when the body names none.
    const target = b.namespace || namespace
    try {
      await identity.kube.get(Workflows, target, name)
    } catch (err) {
      if (!isNotFound(err)) throw err
      if (target !== namespace) throw ApiError.invalidArgument('the namespace of the provided object does not match the namespace sent on the request')
      const { workflow, podsToDelete } = formulateRetry(wf as KubeObject, b)
      await deletePods(identity, namespace, podsToDelete)
      const { resourceVersion: _r, uid: _u, creationTimestamp: _c, generation: _g, managedFields: _m, ...metadata } = workflow.metadata
      return createAs(identity, this.#d.instanceId, { ...workflow, metadata }, namespace)
    }
    throw ApiError.alreadyExists(`Workflow already exists on cluster, use argo retry ${name} instead`)
  }

  /** A new run of an archived workflow, created in the body's namespace (else the workflow's), spec §2.7. */
  async resubmit(identity: Identity, uid: string, b: ActionRequest & { memoized?: boolean }): Promise<unknown> {
    const wf = await this.#resolve(identity, 'get', uid, b.namespace, b.name)
    const namespace = b.namespace || wf.metadata.namespace || ''
    if (!this.#d.create) throw ApiError.internal(NOT_SUPPORTED)
    const workflow = formulateResubmit(wf as KubeObject, b)
    // In another namespace (upstream's resubmit leaves the namespace to the request's), without owners: Kubernetes
    // has no owner across namespaces, and its garbage collector deletes a dependent whose owner it cannot find.
    const { ownerReferences: _o, ...metadata } = workflow.metadata
    const moved = namespace !== wf.metadata.namespace ? { ...workflow, metadata: { ...metadata, namespace } } : workflow
    return this.#d.create(identity, { namespace, workflow: moved })
  }
}

export interface ActionRequest { namespace?: string; name?: string; parameters?: string[] }
