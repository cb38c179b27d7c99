/**
 * FormulateRetryWorkflow (upstream workflow/util/util.go, spec §2.7) as a pure function: which nodes run again,
 * which of their ancestors go back to Running, and which pods must be deleted first.
 */
import { ApiError } from '../http/errors.js'
import type { KubeObject } from '../kube/resources.js'
import { podName } from '../lib/node-names.js'
import { recordOrEmpty } from '../lib/records.js'
import { ARCHIVE_FINALIZER, ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import { phaseOf } from '../lib/workflow-phase.js'
import { L, descendantSucceeded, failedOrError, nodeSelector, nodesOf, now, overrideParameters, type WfNode } from './operations.js'

export interface RetryOptions { restartSuccessful?: boolean; nodeFieldSelector?: string; parameters?: string[] }

const GROUP = new Set(['DAG', 'TaskGroup', 'StepGroup', 'Steps'])
const EXECUTION = new Set(['Container', 'Pod', 'HTTP', 'Plugin'])

/** The retried workflow (to Update in place, or to re-create from the archive) and the pods to delete. */
export function formulateRetry(wf: KubeObject, opts: RetryOptions): { workflow: KubeObject; podsToDelete: string[] } {
  const phase = phaseOf(wf)
  if (phase === 'Succeeded') {
    if (!opts.restartSuccessful || !opts.nodeFieldSelector) {
      throw ApiError.invalidArgument('To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector')
    }
  } else if (phase !== 'Failed' && phase !== 'Error') {
    throw ApiError.invalidArgument(`Cannot retry a workflow in phase ${phase}`)
  }
  const name = wf.metadata.name ?? ''
  const onExit = `${name}.onExit`
  const workflow = newRetryWorkflow(wf, opts.parameters)
  const nodes = nodesOf(wf)
  const tree = new Tree(nodes, name)

  const selected = new Set<string>()
  if (opts.restartSuccessful && opts.nodeFieldSelector) {
    const matches = nodeSelector(opts.nodeFieldSelector)
    for (const n of Object.values(nodes)) if (matches(n)) selected.add(n.id)
  }
  const rerun = new Set(selected)
  for (const [id, node] of Object.entries(nodes)) {
    if (!failedOrError(node) || !EXECUTION.has(node.type ?? '')) continue
    // a failed attempt of a retry node counts through its retry parent
    const n = node.nodeFlag?.retried ? (Object.values(nodes).find((p) => p.children?.includes(node.id)) ?? node) : node
    if (!descendantSucceeded(nodes, n, selected)) rerun.add(id)
  }
  // top-down, so a node already deleted with an ancestor is not reset again
  for (const id of tree.sorted()) if (rerun.has(id) && !tree.toDelete.has(id)) tree.resetPath(id)

  const out: Record<string, WfNode> = {}
  for (const id of tree.toReset) if (!tree.toDelete.has(id) && nodes[id]) out[id] = resetNode(nodes[id])
  const pods = new Set<string>()
  const pod = (n: WfNode) => pods.add(podName(name, n.name, n.templateRef?.template ?? n.templateName))
  for (const id of tree.toDelete) if (nodes[id]?.type === 'Pod') pod(nodes[id])
  for (const [id, n] of Object.entries(nodes)) {
    if (!out[id] && !tree.toDelete.has(id) && !n.name.startsWith(onExit)) out[id] = structuredClone(n)
    if (n.name === onExit) for (const d of [id, ...tree.descendants(id)]) if (nodes[d]) pod(nodes[d])
  }
  for (const n of Object.values(out)) {
    for (const key of ['children', 'outboundNodes'] as const) {
      const kept = (n[key] ?? []).filter((c) => !tree.toDelete.has(c))
      if (kept.length) n[key] = kept
      else delete n[key]
    }
  }
  workflow.status = { ...recordOrEmpty(workflow.status), nodes: out }
  return { workflow, podsToDelete: [...pods] }
}

/** createNewRetryWorkflow: Running again, without completion marks or shutdown. */
function newRetryWorkflow(wf: KubeObject, parameters: string[] | undefined): KubeObject {
  const out = structuredClone(wf)
  const labels = { ...out.metadata.labels }
  delete labels[`${L}completed`]
  delete labels[ARCHIVING_STATUS]
  labels[`${L}phase`] = 'Running'
  out.metadata.labels = labels
  // Running again, it is not waiting for the archive: a deletion must not wait for it to finish.
  const finalizers = out.metadata.finalizers?.filter((f) => f !== ARCHIVE_FINALIZER) ?? []
  if (finalizers.length) out.metadata.finalizers = finalizers
  else delete out.metadata.finalizers
  const status = recordOrEmpty(out.status)
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter((c) => recordOrEmpty(c).type !== 'Completed')
  conditions.push({ status: 'False', type: 'Completed' })
  const { message: _m, finishedAt: _f, persistentVolumeClaims: _p, ...rest } = status
  out.status = { ...rest, conditions, phase: 'Running', startedAt: now(), nodes: {} }
  const stored = recordOrEmpty(status.storedWorkflowTemplateSpec)
  delete stored.shutdown
  const spec = recordOrEmpty(out.spec)
  delete spec.shutdown
  if (spec.activeDeadlineSeconds === 0) delete spec.activeDeadlineSeconds
  overrideParameters(out, parameters)
  return out
}

/** resetNode: Running again (Skipped stays Skipped), supplied outputs of suspend nodes cleared. */
function resetNode(node: WfNode): WfNode {
  const n = structuredClone(node)
  if (n.type === 'Suspend' && n.outputs?.parameters) {
    n.outputs.parameters = n.outputs.parameters.map((p) => ({ name: p.name, valueFrom: { supplied: {} } }))
  }
  if (n.phase !== 'Skipped') n.phase = 'Running'
  delete n.message
  delete n.finishedAt
  n.startedAt = now()
  return n
}

/** The node graph with one parent per node, and the reset/delete walk of upstream's resetPath. */
class Tree {
  readonly parent = new Map<string, string>()
  readonly toReset = new Set<string>()
  readonly toDelete = new Set<string>()
  readonly #root: string | undefined

  constructor(private readonly nodes: Record<string, WfNode>, wfName: string) {
    for (const [id, n] of Object.entries(nodes)) for (const c of n.children ?? []) this.parent.set(c, id)
    for (const [id, n] of Object.entries(nodes)) {
      if (!this.parent.has(id) && n.name !== wfName && !n.name.startsWith(`${wfName}.onExit`)) {
        throw ApiError.internal(`couldn't find parent node for ${id}`)
      }
    }
    this.#root = Object.values(nodes).find((n) => n.name === wfName)?.id
  }

  /** Breadth-first from the root (exit-handler nodes are not reached). */
  sorted(): string[] {
    if (this.#root === undefined) return []
    const out: string[] = []
    const seen = new Set<string>()
    for (let queue = [this.#root]; queue.length;) {
      const id = queue.shift() as string
      if (seen.has(id)) continue
      seen.add(id)
      out.push(id)
      queue = queue.concat(this.nodes[id]?.children ?? [])
    }
    return out
  }

  descendants(id: string): string[] {
    const out = new Set<string>()
    for (let queue = [...(this.nodes[id]?.children ?? [])]; queue.length;) {
      const c = queue.shift() as string
      if (out.has(c)) continue
      out.add(c)
      queue.push(...(this.nodes[c]?.children ?? []))
    }
    return [...out]
  }

  #type = (id: string): string => this.nodes[id]?.type ?? ''

  /** The node and everything under it are deleted; the groups, retries and pods above it are reset. */
  resetPath(start: string): void {
    this.#delete(start)
    if (start === this.#root) return
    let curr: string | undefined = start
    for (let guard = 0; curr !== undefined; guard++) {
      if (guard > 4 * Object.keys(this.nodes).length + 8) throw ApiError.internal('node graph has a cycle')
      const t = this.#type(curr)
      if (GROUP.has(t)) {
        this.toReset.add(curr)
        curr = this.#resetBoundaries(curr)
        continue
      }
      if (t === 'Retry') this.toReset.add(curr)
      else if (t === 'Container') {
        const p = this.#resetUntil(curr, (id) => this.#type(id) === 'Pod')
        this.#delete(p)
        curr = p
      }
      curr = this.parent.get(curr)
    }
  }

  #delete(id: string): void {
    this.toDelete.add(id)
    for (const d of this.descendants(id)) this.toDelete.add(d)
  }

  #resetUntil(from: string, match: (id: string) => boolean): string {
    let steps = Object.keys(this.nodes).length + 1
    for (let curr: string | undefined = from; curr !== undefined && steps-- > 0; curr = this.parent.get(curr)) {
      if (match(curr)) {
        this.toReset.add(curr)
        return curr
      }
    }
    throw ApiError.internal('was seeking node but ran out of nodes to explore')
  }

  #resetBoundaries(from: string): string | undefined {
    let curr = from
    for (;;) {
      let p = this.parent.get(curr)
      if (p !== undefined && this.#type(p) === 'Retry') {
        this.toReset.add(p)
        curr = p
        p = this.parent.get(curr)
      }
      if (p !== undefined && this.#type(p) === 'StepGroup') this.toReset.add(p)
      const boundary = this.nodes[curr]?.boundaryID
      if (!boundary) return this.parent.get(curr)
      curr = this.#resetUntil(curr, (id) => id === boundary)
    }
  }
}
