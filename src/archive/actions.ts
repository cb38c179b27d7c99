import type { Identity } from '../auth/identity.js'
import { ApiError } from '../http/errors.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import { applyCreatorLabels } from '../lib/creator-labels.js'
import { withInstanceIdLabel } from '../lib/instance-id.js'
import { toApiObject } from '../workflows/workflow-index.js'
import { ARCHIVING_STATUS } from './types.js'

type Rec = Record<string, unknown>
interface WfNode { id?: string; name?: string; displayName?: string; templateName?: string; phase?: string; children?: string[]; [k: string]: unknown }

const L = 'workflows.argoproj.io/'
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Rec) } : {})
/** Labels a resubmitted or retried workflow must not inherit (spec §2.7; creator labels are re-stamped). */
const DROPPED = [`${L}creator`, `${L}creator-email`, `${L}creator-preferred-username`, `${L}phase`, `${L}completed`, ARCHIVING_STATUS]

/** `["k=v", …]` replaces or extends spec.arguments.parameters (split on the first `=`, spec §2.6). */
function withParameters(spec: Rec, parameters: string[] | undefined): Rec {
  if (!parameters?.length) return spec
  const args = rec(spec.arguments)
  const params = Array.isArray(args.parameters) ? (args.parameters as Rec[]).map(rec) : []
  for (const p of parameters) {
    const i = p.indexOf('=')
    if (i < 0) throw ApiError.invalidArgument(`expected parameter of the form: NAME=VALUE. Received: ${p}`)
    const [name, value] = [p.slice(0, i), p.slice(i + 1)]
    const existing = params.find((x) => x.name === name)
    if (existing) existing.value = value
    else params.push({ name, value })
  }
  return { ...spec, arguments: { ...args, parameters: params } }
}

function labelsWithout(labels: Record<string, string> | undefined): Record<string, string> {
  const out = { ...labels }
  for (const k of DROPPED) delete out[k]
  return out
}

/** A fresh copy of an archived workflow under a generated name (FormulateResubmitWorkflow, spec §2.7). */
export function formulateResubmit(wf: KubeObject, opts: { memoized?: boolean; parameters?: string[] }): KubeObject {
  const phase = String(rec(wf.status).phase ?? '')
  if (opts.memoized && phase !== 'Failed' && phase !== 'Error') {
    throw ApiError.invalidArgument(`workflow must be Failed/Error to resubmit in memoized mode`)
  }
  const md = wf.metadata
  const labels = { ...labelsWithout(md.labels), [`${L}resubmitted-from-workflow`]: md.name ?? '' }
  const spec = withParameters({ ...rec(wf.spec) }, opts.parameters)
  delete spec.shutdown
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      generateName: md.generateName || `${md.name ?? ''}-`,
      namespace: md.namespace,
      labels,
      ...(md.annotations ? { annotations: md.annotations } : {}),
      ...(md.ownerReferences ? { ownerReferences: md.ownerReferences } : {}),
    },
    spec,
  }
}

const matchesSelector = (n: WfNode, selector: string): boolean => selector.split(',').filter(Boolean).every((term) => {
  const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim())
  if (!m) throw ApiError.invalidArgument(`cannot parse nodeFieldSelector term "${term}"`)
  const v = String(n[m[1] as string] ?? '')
  return m[2] === '!=' ? v !== m[3] : v === m[3]
})

/**
 * The archived workflow re-created to run again (FormulateRetryWorkflow, spec §2.7, kept minimal): failed nodes
 * (and, with restartSuccessful, the selected ones) and everything under them are removed so they run again; their
 * ancestors go back to Running; the workflow is Running again without completion labels.
 */
export function formulateRetry(wf: KubeObject, opts: { restartSuccessful?: boolean; nodeFieldSelector?: string; parameters?: string[] }): KubeObject {
  const status = rec(wf.status)
  const phase = String(status.phase ?? '')
  if (phase === 'Succeeded' && !(opts.restartSuccessful && opts.nodeFieldSelector)) {
    throw ApiError.invalidArgument('To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector')
  }
  if (phase !== 'Failed' && phase !== 'Error' && phase !== 'Succeeded') throw ApiError.invalidArgument(`Cannot retry a workflow in phase ${phase}`)
  const nodes = rec(status.nodes) as Record<string, WfNode>
  const reset = new Set<string>()
  const drop = (id: string) => {
    if (reset.has(id)) return
    reset.add(id)
    for (const c of nodes[id]?.children ?? []) drop(c)
  }
  for (const [id, n] of Object.entries(nodes)) {
    const failed = n.phase === 'Failed' || n.phase === 'Error'
    const selected = opts.restartSuccessful && opts.nodeFieldSelector ? matchesSelector(n, opts.nodeFieldSelector) : false
    // Boundary nodes (steps, DAG) that failed because a child did are re-run through their children, not removed.
    if ((failed && !(n.children?.length)) || selected) drop(id)
  }
  const parents = new Map<string, string>()
  for (const [id, n] of Object.entries(nodes)) for (const c of n.children ?? []) parents.set(c, id)
  const kept: Record<string, WfNode> = {}
  for (const [id, n] of Object.entries(nodes)) if (!reset.has(id)) kept[id] = { ...n }
  for (const id of reset) {
    for (let p = parents.get(id); p && kept[p]; p = parents.get(p)) {
      const { finishedAt: _f, message: _m, ...rest } = kept[p] as WfNode
      kept[p] = { ...rest, phase: 'Running', children: (rest.children ?? []).filter((c) => !reset.has(c)) }
    }
  }
  const { finishedAt: _f, message: _m, conditions: _c, ...st } = status
  const md = wf.metadata
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      name: md.name, namespace: md.namespace,
      labels: { ...labelsWithout(md.labels), [`${L}phase`]: 'Running' },
      ...(md.annotations ? { annotations: md.annotations } : {}),
    },
    spec: withParameters({ ...rec(wf.spec) }, opts.parameters),
    status: { ...st, phase: 'Running', nodes: kept },
  }
}

/** Creates the formulated workflow as the caller, stamped like any create (instance ID, creator labels). */
export async function createAs(identity: Identity, instanceId: string, wf: KubeObject, namespace: string): Promise<ReturnType<typeof toApiObject>> {
  let labels = withInstanceIdLabel({ ...wf.metadata.labels }, instanceId)
  labels = applyCreatorLabels(labels, identity.claims)
  const created = await identity.kube.create(Workflows, namespace, { ...wf, metadata: { ...wf.metadata, namespace, labels } })
  return toApiObject(created)
}
