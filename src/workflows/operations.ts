/**
 * The workflow transformations behind the actions (upstream workflow/util/util.go), as pure functions over plain
 * JSON: shared by WorkflowService's live actions and ArchivedWorkflowService's retry and resubmit (spec §2.7).
 */
import { ApiError } from '../http/errors.js'
import type { KubeObject } from '../kube/resources.js'
import { matchesFields, parseFieldSelector } from '../lib/field-selector.js'
import { nodeId } from '../lib/node-names.js'
import { recordOrEmpty, type Rec } from '../lib/records.js'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import { phaseOf } from '../lib/workflow-phase.js'
import { KEY_ANNOTATION, KEY_LABEL, REQUEST_HASH_ANNOTATION } from './submission-hook.js'

export interface WfNode {
  id: string
  name: string
  displayName?: string
  type?: string
  phase?: string
  templateName?: string
  templateRef?: { name?: string; template?: string }
  boundaryID?: string
  children?: string[]
  outboundNodes?: string[]
  message?: string
  inputs?: { parameters?: { name?: string; value?: unknown }[] }
  outputs?: { parameters?: Rec[] }
  nodeFlag?: { retried?: boolean }
  [k: string]: unknown
}

export const L = 'workflows.argoproj.io/'
export const nodesOf = (wf: KubeObject): Record<string, WfNode> => recordOrEmpty(recordOrEmpty(wf.status).nodes) as Record<string, WfNode>
export const failedOrError = (n: WfNode): boolean => n.phase === 'Failed' || n.phase === 'Error'
/** metav1.Time as upstream writes it: RFC 3339, whole seconds. */
export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

/**
 * `["k=v", …]` split on the first `=`; the given parameters come first, then the spec's others (overrideParameters).
 * The stored template spec, when there is one, gets the same list.
 */
export function overrideParameters(wf: KubeObject, parameters: string[] | undefined): void {
  if (!parameters?.length) return
  const given = parameters.map((p) => {
    const i = p.indexOf('=')
    if (i < 0) throw ApiError.invalidArgument(`expected parameter of the form: NAME=VALUE. Received: ${p}`)
    return { name: p.slice(0, i), value: p.slice(i + 1) }
  })
  const names = new Set(given.map((p) => p.name))
  const spec = recordOrEmpty(wf.spec)
  const args = recordOrEmpty(spec.arguments)
  const kept = (Array.isArray(args.parameters) ? args.parameters : []).filter((p) => !names.has(String(recordOrEmpty(p).name)))
  const params = [...given, ...kept]
  wf.spec = { ...spec, arguments: { ...args, parameters: params } }
  const stored = recordOrEmpty(recordOrEmpty(wf.status).storedWorkflowTemplateSpec)
  if (Object.keys(stored).length) stored.arguments = { ...recordOrEmpty(stored.arguments), parameters: params }
}

/** The fields a nodeFieldSelector can name (SelectorMatchesNode; docs/node-field-selector.md). */
function nodeFields(n: WfNode): Map<string, string> {
  const f = new Map<string, string>([
    ['displayName', n.displayName ?? ''], ['templateName', n.templateRef?.template ?? n.templateName ?? ''],
    ['phase', n.phase ?? ''], ['name', n.name ?? ''], ['id', n.id ?? ''],
  ])
  if (n.templateRef) {
    f.set('templateRef.name', n.templateRef.name ?? '')
    f.set('templateRef.template', n.templateRef.template ?? '')
  }
  for (const p of n.inputs?.parameters ?? []) f.set(`inputs.parameters.${p.name ?? ''}.value`, typeof p.value === 'string' ? p.value : JSON.stringify(p.value ?? ''))
  return f
}

/** Any field name is accepted; one a node lacks reads as '' (Go fields.Set). */
class AnyField extends Set<string> {
  override has(): boolean {
    return true
  }
}

/** A matcher for a node field selector; a syntax error is a 400 (upstream: 500). */
export function nodeSelector(selector: string): (n: WfNode) => boolean {
  const reqs = parseFieldSelector(selector, new AnyField())
  return (n) => {
    const f = nodeFields(n)
    return matchesFields(reqs, (k) => f.get(k) ?? '')
  }
}

export interface NodeUpdate { phase?: string; message?: string; outputParameters?: Record<string, string> }

const activeSuspend = (n: WfNode): boolean => n.type === 'Suspend' && n.phase === 'Running'
const TERMINAL = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted'])

/**
 * updateSuspendedNode: the selected running suspend nodes with a new phase, message or output parameters, as a
 * merge patch of status (nodes by ID, and global outputs). No match is a 400 with upstream's message.
 */
export function updateSuspendedNodes(wf: KubeObject, selector: string, values: NodeUpdate): Rec {
  const matches = nodeSelector(selector)
  const nodes: Record<string, WfNode> = {}
  const globals = [...((recordOrEmpty(recordOrEmpty(wf.status).outputs).parameters as Rec[] | undefined) ?? [])].map((p) => ({ ...p }))
  let updated = false
  for (const [id, node] of Object.entries(nodesOf(wf))) {
    if (!activeSuspend(node) || !matches(node)) continue
    const n: WfNode = structuredClone(node)
    if (values.phase) {
      n.phase = values.phase
      if (TERMINAL.has(values.phase)) n.finishedAt = now()
      updated = true
    }
    if (values.message) {
      n.message = values.message
      updated = true
    }
    for (const [name, value] of Object.entries(values.outputParameters ?? {})) {
      if (!n.outputs) throw ApiError.invalidArgument('cannot set output parameters because node is not expecting any raw parameters')
      const p = n.outputs.parameters?.find((x) => x.name === name)
      if (!p) throw ApiError.invalidArgument(`node is not expecting output parameter '${name}'`)
      if (!recordOrEmpty(p.valueFrom).supplied) throw ApiError.invalidArgument(`cannot set output parameter '${name}' because it does not use valueFrom.raw or it was already set`)
      p.value = value
      delete p.valueFrom
      updated = true
      setGlobal(globals, p)
    }
    nodes[id] = n
  }
  if (!updated) throw ApiError.invalidArgument(`currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: ${selector}`)
  return { nodes, ...(globals.length ? { outputs: { ...recordOrEmpty(recordOrEmpty(wf.status).outputs), parameters: globals } } : {}) }
}

/** AddParamToGlobalScope: a parameter with a globalName also becomes a workflow output. */
function setGlobal(globals: Rec[], p: Rec): void {
  const name = p.globalName
  if (typeof name !== 'string' || !name) return
  const g = globals.find((x) => x.name === name)
  if (g) g.value = p.value
  else globals.push({ name, value: p.value })
}

/**
 * ResumeWorkflow without a selector: spec.suspend cleared and every running suspend node Succeeded, its supplied
 * outputs falling back to their defaults (a missing default is a 400; upstream: 500). A status merge patch.
 */
export function resumeAll(wf: KubeObject, uiMsg: string): Rec {
  const nodes: Record<string, WfNode> = {}
  for (const [id, node] of Object.entries(nodesOf(wf))) {
    if (!activeSuspend(node)) continue
    const n: WfNode = structuredClone(node)
    for (const p of n.outputs?.parameters ?? []) {
      const vf = recordOrEmpty(p.valueFrom)
      if (!vf.supplied) continue
      if (vf.default === undefined) throw ApiError.invalidArgument(`raw output parameter '${String(p.name)}' has not been set and does not have a default value`)
      p.value = vf.default
      delete p.valueFrom
    }
    Object.assign(n, { phase: 'Succeeded', message: n.message ? `${n.message}; ${uiMsg}` : uiMsg, finishedAt: now() })
    if (!n.message) delete n.message
    nodes[id] = n
  }
  return nodes
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'
const randSuffix = (): string => Array.from({ length: 5 }, () => LETTERS[Math.floor(Math.random() * LETTERS.length)]).join('')
/** Labels a resubmitted workflow does not inherit; the creator labels are re-stamped for the caller. */
const NOT_INHERITED = new Set([`${L}creator`, `${L}creator-email`, `${L}creator-preferred-username`, `${L}phase`, `${L}completed`, ARCHIVING_STATUS, KEY_LABEL])

/** A new run is not the request an Idempotency-Key recorded: it must not be found as that key's replay. */
function withoutKeys(m: Record<string, string> | undefined, drop: string[]): Record<string, string> {
  const out = { ...m }
  for (const k of drop) delete out[k]
  return out
}

/** A new run of `wf` (FormulateResubmitWorkflow, spec §2.7); memoized keeps its succeeded pods as Skipped. */
export function formulateResubmit(wf: KubeObject, opts: { memoized?: boolean; parameters?: string[] }): KubeObject {
  const md = wf.metadata
  const oldName = md.name ?? ''
  const generateName = md.generateName || `${oldName}-`
  const phase = phaseOf(wf)
  if (opts.memoized && phase !== 'Failed' && phase !== 'Error') {
    throw ApiError.invalidArgument('workflow must be Failed/Error to resubmit in memoized mode')
  }
  const spec = structuredClone(recordOrEmpty(wf.spec))
  if (spec.activeDeadlineSeconds === 0) delete spec.activeDeadlineSeconds
  delete spec.shutdown
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(md.labels ?? {})) if (!NOT_INHERITED.has(k)) labels[k] = v
  labels[`${L}resubmitted-from-workflow`] = oldName
  const name = opts.memoized ? generateName + randSuffix() : undefined
  const out: KubeObject = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      ...(name ? { name } : { generateName }),
      namespace: md.namespace,
      labels,
      annotations: withoutKeys(md.annotations, [KEY_ANNOTATION, REQUEST_HASH_ANNOTATION]),
      ...(Array.isArray(md.ownerReferences) && md.ownerReferences.length ? { ownerReferences: md.ownerReferences } : {}),
    },
    spec,
  }
  overrideParameters(out, opts.parameters)
  if (name) out.status = memoizedStatus(wf, name)
  return out
}

function memoizedStatus(wf: KubeObject, newName: string): Rec {
  const oldName = wf.metadata.name ?? ''
  const old = nodesOf(wf)
  const rename = (n: string): string => (n.startsWith(oldName) ? newName + n.slice(oldName.length) : n)
  const convert = (id: string): string => nodeId(newName, rename(old[id]?.name ?? ''))
  const nodes: Record<string, WfNode> = {}
  const t = now()
  for (const node of Object.values(old)) {
    if (node.name.startsWith(`${oldName}.onExit`)) continue
    const n: WfNode = structuredClone(node)
    n.name = rename(node.name)
    n.id = nodeId(newName, n.name)
    if (node.boundaryID) n.boundaryID = convert(node.boundaryID)
    if (failedOrError(n) && n.type === 'Pod') {
      delete n.startedAt
      delete n.finishedAt
    } else {
      n.startedAt = t
      n.finishedAt = t
    }
    if (node.children) n.children = node.children.map(convert)
    if (node.outboundNodes) n.outboundNodes = node.outboundNodes.map(convert)
    if (!failedOrError(n) && n.type === 'Pod') {
      Object.assign(n, { phase: 'Skipped', type: 'Skipped', message: `original pod: ${node.id}` })
    } else if (n.type === 'Skipped' && !descendantSucceeded(old, node, new Set())) {
      continue
    } else {
      n.phase = 'Pending'
      delete n.message
    }
    nodes[n.id] = n
  }
  return {
    nodes,
    storedTemplates: { ...recordOrEmpty(recordOrEmpty(wf.status).storedTemplates) },
    conditions: [{ status: 'False', type: 'Completed' }],
  }
}

/** isDescendantNodeSucceeded: some descendant not being reset has Succeeded. */
export function descendantSucceeded(nodes: Record<string, WfNode>, node: WfNode, resetting: Set<string>, seen = new Set<string>()): boolean {
  for (const c of node.children ?? []) {
    const child = nodes[c]
    if (!child || seen.has(c)) continue
    seen.add(c)
    if ((!resetting.has(c) && child.phase === 'Succeeded') || descendantSucceeded(nodes, child, resetting, seen)) return true
  }
  return false
}
