import type { Identity } from '../auth/index.js'
import { ApiError } from '../http/errors.js'
import type { ArgoResource, KubeList, KubeObject, ListParams } from '../kube/resources.js'
import { formatProblems, lintProblems, type ArgoKind, type Resolver } from '../lib/argo-schema/index.js'
import { applyActorLabels, applyCreatorLabels } from '../lib/creator-labels.js'
import { instanceIdRequirement, isManagedBy, withInstanceIdLabel } from '../lib/instance-id.js'
import { LabelSelectorError, formatLabelSelector, parseLabelSelector } from '../lib/label-selector.js'
import { asObject } from '../lib/records.js'

/** One Argo kind served by a CRUD service: WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow. */
export interface ObjectKind {
  res: ArgoResource
  kind: ArgoKind
  /** the proto message carries `status` (CronWorkflow) or not (templates): spec §0, no kind/apiVersion */
  hasStatus: boolean
  /** the request message's object field */
  field: 'template' | 'cronWorkflow'
  /** upstream's messages when the request has no object, on create and on update */
  missing: { create: string; update: string }
  /** upstream's template servers sort a list page by name; its cron server keeps Kubernetes' order */
  sortByName: boolean
  /** update checks the stored object's instance ID (cron, as upstream) rather than the body's (templates) */
  checkExistingOnUpdate: boolean
  /**
   * Template references resolved with the caller's client before validation; absent: references are not checked
   * (upstream's template validation tolerates unresolved ones, its cron validation does not).
   */
  resolver?: (identity: Identity, namespace: string, obj: KubeObject) => Promise<Resolver>
}

export interface ListQuery {
  labelSelector?: string
  fieldSelector?: string
  resourceVersion?: string
  limit?: number
  continue?: string
  /** substring of the name (WorkflowTemplates only, spec §2.10) */
  namePattern?: string
}

export type WireObject = Record<string, unknown> & { metadata: KubeObject['metadata'] }


/**
 * CRUD of one Argo kind, every call made to Kubernetes with the caller's own client: nothing is served from a
 * cache, so Kubernetes authorizes each read (the GHSA-56px-hm34-xqj5 leak cannot happen, spec §8).
 */
export class ArgoObjects {
  readonly #k: ObjectKind
  readonly #instanceId: string

  constructor(kind: ObjectKind, instanceId: string) {
    this.#k = kind
    this.#instanceId = instanceId
  }

  get kind(): Readonly<ObjectKind> {
    return this.#k
  }

  /** The object as the proto message serializes it (spec §0): no kind/apiVersion, spec (and status) always present. */
  wire(obj: KubeObject): WireObject {
    const { managedFields: _m, ...metadata } = obj.metadata ?? {}
    const out: WireObject = { metadata, spec: obj.spec ?? {} }
    if (this.#k.hasStatus) out.status = obj.status ?? {}
    return out
  }

  /** The request's object with the path namespace and the instance-ID and creator (or actor) labels. */
  #prepare(identity: Identity, namespace: string, input: Record<string, unknown> | undefined, update: boolean): KubeObject {
    if (!input) throw ApiError.invalidArgument(update ? this.#k.missing.update : this.#k.missing.create)
    const metadata = asObject(input.metadata)
    if (this.#k.res.namespaced && !metadata.namespace) metadata.namespace = namespace
    const labels = asObject(metadata.labels) as Record<string, string>
    metadata.labels = update
      ? applyActorLabels(labels, identity.claims, 'Update')
      : applyCreatorLabels(withInstanceIdLabel(labels, this.#instanceId), identity.claims)
    return { ...input, apiVersion: `${this.#k.res.group}/${this.#k.res.version}`, kind: this.#k.res.kind, metadata }
  }

  /** Every problem, each naming its field, in one 400 (spec §4). */
  async #validate(identity: Identity, namespace: string, obj: KubeObject): Promise<void> {
    const resolveTemplate = this.#k.resolver ? await this.#k.resolver(identity, namespace, obj) : undefined
    const problems = lintProblems(this.#k.kind, obj, { resolveTemplate })
    if (problems.length) throw ApiError.invalidArgument(formatProblems(problems))
  }

  #requireManaged(obj: KubeObject): void {
    if (!isManagedBy(obj.metadata.labels, this.#instanceId)) {
      throw ApiError.invalidArgument(`'${obj.metadata.name ?? ''}' is not managed by the current Argo Server`)
    }
  }

  async list(identity: Identity, namespace: string, q: ListQuery): Promise<{ metadata: KubeList['metadata']; items: WireObject[] | null }> {
    let user: ReturnType<typeof parseLabelSelector>
    try {
      user = parseLabelSelector(q.labelSelector ?? '')
    } catch (e) {
      if (e instanceof LabelSelectorError) throw ApiError.invalidArgument(`listOptions.labelSelector: ${e.message}`)
      throw e
    }
    if (q.limit !== undefined && q.limit < 0) throw ApiError.invalidArgument('listOptions.limit must >= 0')
    const params: ListParams = {
      labelSelector: formatLabelSelector([...user, instanceIdRequirement(this.#instanceId)]),
      fieldSelector: q.fieldSelector || undefined,
      resourceVersion: q.resourceVersion || undefined,
    }
    // With namePattern upstream lists everything and pages itself (spec §2.10); otherwise Kubernetes pages.
    const list = await identity.kube.list(this.#k.res, namespace, q.namePattern ? params : { ...params, limit: q.limit || undefined, continue: q.continue || undefined })
    const { resourceVersion, continue: cont, remainingItemCount } = list.metadata ?? {}
    const metadata: KubeList['metadata'] = { resourceVersion, continue: cont, remainingItemCount }
    let items = list.items ?? []
    if (q.namePattern) {
      const page = byResourceVersion(items.filter((o) => (o.metadata.name ?? '').includes(q.namePattern as string)), q.continue, q.limit)
      items = page.items
      metadata.continue = page.continue
      delete metadata.remainingItemCount
    }
    if (this.#k.sortByName) items = [...items].sort((a, b) => compare(a.metadata.name ?? '', b.metadata.name ?? ''))
    // Go marshals an empty repeated field as null (spec §0).
    return { metadata: definedOnly(metadata), items: items.length ? items.map((o) => this.wire(o)) : null }
  }

  /** `createOptions.dryRun` is a Kubernetes dry run here (upstream ignores createOptions on these services). */
  async create(identity: Identity, namespace: string, input: Record<string, unknown> | undefined, dryRun: boolean): Promise<WireObject> {
    const obj = this.#prepare(identity, namespace, input, false)
    await this.#validate(identity, namespace, obj)
    return this.wire(await identity.kube.create(this.#k.res, namespace, obj, { dryRun }))
  }

  /** Validates in full and answers the labelled input; failure is 400 code 3 listing every problem (spec §2.6). */
  async lint(identity: Identity, namespace: string, input: Record<string, unknown> | undefined): Promise<WireObject> {
    const obj = this.#prepare(identity, namespace, input, false)
    await this.#validate(identity, namespace, obj)
    return this.wire(obj)
  }

  /** The live object read as the caller; one of another instance is a 400, as upstream's instance-ID check. */
  async get(identity: Identity, namespace: string, name: string): Promise<KubeObject> {
    const obj = await identity.kube.get(this.#k.res, namespace, name)
    this.#requireManaged(obj)
    return obj
  }

  /**
   * Replaces the object named by the body (the path name only fills a missing one: upstream ignores it). The body's
   * metadata.resourceVersion is required and must be current: Kubernetes answers 400 without it, 409 when stale.
   */
  async update(identity: Identity, namespace: string, pathName: string, input: Record<string, unknown> | undefined): Promise<WireObject> {
    const obj = this.#prepare(identity, namespace, input, true)
    obj.metadata.name ||= pathName
    const name = obj.metadata.name
    if (this.#k.checkExistingOnUpdate) await this.get(identity, namespace, name)
    else this.#requireManaged(obj)
    await this.#validate(identity, namespace, obj)
    return this.wire(await identity.kube.replace(this.#k.res, namespace, name, obj))
  }

  async delete(identity: Identity, namespace: string, name: string): Promise<void> {
    await this.get(identity, namespace, name)
    await identity.kube.delete(this.#k.res, namespace, name)
  }

  /** JSON merge patch of a managed object (cron suspend/resume). */
  async patch(identity: Identity, namespace: string, name: string, body: unknown): Promise<WireObject> {
    await this.get(identity, namespace, name)
    return this.wire(await identity.kube.patch(this.#k.res, namespace, name, body))
  }
}

/**
 * Upstream's namePattern paging (`cursorPaginationByResourceVersion`): newest resourceVersion first, `continue` is
 * the last item's resourceVersion and the next page holds older ones. A non-numeric token is a 400 here.
 */
function byResourceVersion(items: KubeObject[], token: string | undefined, limit: number | undefined): { items: KubeObject[]; continue?: string } {
  const rv = (o: KubeObject) => Number(o.metadata.resourceVersion) || 0
  let sorted = [...items].sort((a, b) => rv(b) - rv(a))
  if (token) {
    if (!/^\d+$/.test(token)) throw ApiError.invalidArgument('listOptions.continue must be a resourceVersion with namePattern')
    sorted = sorted.filter((o) => rv(o) < Number(token))
  }
  if (!limit) return { items: sorted }
  const page = sorted.slice(0, limit)
  const last = page[page.length - 1]
  return { items: page, continue: page.length === limit && last ? last.metadata.resourceVersion : undefined }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T
}
