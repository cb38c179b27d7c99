/**
 * SubmitWorkflow (spec §2.6): a Workflow made from a WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow,
 * adjusted by submitOptions, then created exactly as CreateWorkflow creates (stamping, validation, dry runs).
 */
import type { Identity } from '../auth/index.js'
import { ApiError } from '../http/errors.js'
import { ClusterWorkflowTemplates, CronWorkflows, WorkflowTemplates, type KubeObject } from '../kube/resources.js'
import { formatProblems, lintProblems } from '../lib/argo-schema/index.js'
import { LabelInstanceId } from '../lib/instance-id.js'
import { validateLabelKey, validateLabelValue } from '../lib/label-selector.js'
import { recordOrEmpty } from '../lib/records.js'
import { L, now, overrideParameters } from './operations.js'
import type { WorkflowService } from './service.js'
import type { toApiObject } from './workflow-index.js'

export interface SubmitOptions {
  name?: string
  generateName?: string
  entryPoint?: string
  parameters?: string[]
  serviceAccount?: string
  podPriorityClassName?: string
  priority?: number
  labels?: string
  annotations?: string
  ownerReference?: Record<string, unknown>
  dryRun?: boolean
  serverDryRun?: boolean
}

export interface SubmitRequest {
  resourceKind?: string
  resourceName?: string
  submitOptions?: SubmitOptions
}

type Source = 'cron' | 'template' | 'cluster'
/** Every spelling upstream accepts (pkg/apis/workflow/register.go: kind, singular, plural, short name). */
const KINDS = new Map<string, Source>([
  ...['CronWorkflow', 'cronworkflow', 'cronworkflows', 'cronwf'].map((k): [string, Source] => [k, 'cron']),
  ...['WorkflowTemplate', 'workflowtemplate', 'workflowtemplates', 'wftmpl'].map((k): [string, Source] => [k, 'template']),
  ...['ClusterWorkflowTemplate', 'clusterworkflowtemplate', 'clusterworkflowtemplates', 'cwftmpl'].map((k): [string, Source] => [k, 'cluster']),
])

export class SubmitService {
  readonly #workflows: WorkflowService

  constructor(workflows: WorkflowService) {
    this.#workflows = workflows
  }

  /**
   * The source is read with the caller's identity, so their RBAC applies and a missing one is 404. Deviation: a
   * malformed option is 400 (upstream: 500), and an entryPoint the template lacks is caught before creating.
   */
  async submit(identity: Identity, namespace: string, body: SubmitRequest, decorate?: (wf: KubeObject) => Promise<KubeObject>): Promise<ReturnType<typeof toApiObject>> {
    const kind = body.resourceKind ?? ''
    const source = KINDS.get(kind)
    if (!source) throw ApiError.invalidArgument(`Resource kind '${kind}' is not supported for submitting`)
    const name = body.resourceName ?? ''
    if (!name) throw ApiError.invalidArgument('resourceName is required')
    const opts = body.submitOptions ?? {}
    const cluster = source === 'cluster'
    const tmpl = source === 'cron' ? undefined : await identity.kube.get(cluster ? ClusterWorkflowTemplates : WorkflowTemplates, cluster ? '' : namespace, name)
    const wf = tmpl ? fromTemplate(name, cluster) : fromCronWorkflow(await identity.kube.get(CronWorkflows, namespace, name))
    applySubmitOptions(wf, opts)
    if (tmpl) {
      // the template is at hand: check the workflow against it (entryPoint, parameters) before creating
      const problems = lintProblems('Workflow', wf, { lint: true, resolveTemplate: (r) => (r.name === name && r.clusterScope === cluster ? tmpl : undefined) })
      if (problems.length) throw ApiError.invalidArgument(formatProblems(problems))
    }
    return this.#workflows.create(identity, {
      namespace,
      workflow: wf,
      serverDryRun: opts.serverDryRun === true,
      ...(opts.dryRun ? { createOptions: { dryRun: ['All'] } } : {}),
      decorate, // Idempotency-Key naming (src/wait/idempotency.ts)
    })
  }
}

/** NewWorkflowFromWorkflowTemplate (workflow/common/convert.go). */
function fromTemplate(name: string, clusterScope: boolean): KubeObject {
  return {
    metadata: { generateName: `${name}-`, labels: { [`${L}${clusterScope ? 'cluster-workflow-template' : 'workflow-template'}`]: name }, annotations: {} },
    spec: { workflowTemplateRef: { name, ...(clusterScope ? { clusterScope: true } : {}) } },
  }
}

/** ConvertCronWorkflowToWorkflow: its workflowSpec and workflowMetadata, owned by the cron workflow. */
function fromCronWorkflow(cron: KubeObject): KubeObject {
  const spec = recordOrEmpty(cron.spec)
  const meta = recordOrEmpty(spec.workflowMetadata)
  const name = cron.metadata.name ?? ''
  const labels: Record<string, string> = {}
  const instance = cron.metadata.labels?.[LabelInstanceId]
  if (instance) labels[LabelInstanceId] = instance
  labels[`${L}cron-workflow`] = name
  Object.assign(labels, recordOrEmpty(meta.labels))
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : []
  return {
    metadata: {
      generateName: `${name}-`,
      labels,
      annotations: { [`${L}scheduled-time`]: now(), ...recordOrEmpty(meta.annotations) } as Record<string, string>,
      ...(finalizers.length ? { finalizers } : {}),
      ownerReferences: [{ apiVersion: cron.apiVersion ?? 'argoproj.io/v1alpha1', kind: 'CronWorkflow', name, uid: cron.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(recordOrEmpty(spec.workflowSpec)),
  }
}

/** `k=v,k2=v2` (cmdutil.ParseLabels). */
function parseMap(what: string, s: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of s.split(',')) {
    const kv = item.split('=')
    const problem = kv.length !== 2 ? `unexpected label spec: ${item}` : !kv[0] ? 'unexpected empty label key' : undefined
    if (problem) throw ApiError.invalidArgument(`expected ${what} of the form: NAME1=VALUE2,NAME2=VALUE2. Received: ${s}: ${problem}`)
    const [k, v] = kv as [string, string]
    // Kubernetes would refuse these with 422; say so before anything is created
    const errs = [...validateLabelKey(k), ...(what === 'labels' ? validateLabelValue(v) : [])]
    if (errs.length) throw ApiError.invalidArgument(`metadata.${what.toLowerCase()}: Invalid value: ${JSON.stringify(item)}: ${errs.join('; ')}`)
    out[k] = v
  }
  return out
}

/** ApplySubmitOpts (workflow/util/util.go). */
function applySubmitOptions(wf: KubeObject, o: SubmitOptions): void {
  const spec = recordOrEmpty(wf.spec)
  if (o.entryPoint) spec.entrypoint = o.entryPoint
  if (o.serviceAccount) spec.serviceAccountName = o.serviceAccount
  if (o.podPriorityClassName) spec.podPriorityClassName = o.podPriorityClassName
  if (o.priority !== undefined) spec.priority = o.priority
  wf.spec = spec
  const md = wf.metadata
  if (o.labels) md.labels = { ...md.labels, ...parseMap('labels', o.labels) }
  if (o.annotations) md.annotations = { ...md.annotations, ...parseMap('Annotations', o.annotations) }
  overrideParameters(wf, o.parameters)
  if (o.generateName) md.generateName = o.generateName
  if (o.name) md.name = o.name
  if (o.ownerReference) md.ownerReferences = [...(Array.isArray(md.ownerReferences) ? md.ownerReferences : []), o.ownerReference]
}
