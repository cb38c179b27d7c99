// Per-workflow status writing for the simulated controller: nodes, progress roll-up, coalesced patches, events.
import type { KubeObject, ResourceRef } from './types.js'
import { COUNTED, RunState, TERMINAL, failedPhase } from './runner-state.js'
import type { NewNode, WfNode } from './runner-state.js'
import { isoNow, nodeId } from './runner-util.js'
import type { Rec, Scope } from './runner-util.js'
import { WORKFLOWS } from './runner-spec.js'

export { Cancelled, TERMINAL, failedPhase } from './runner-state.js'
export type { NewNode, RunContext, WfNode } from './runner-state.js'

const LABEL = 'workflows.argoproj.io/'
let eventSeq = 0n

export class WorkflowRun extends RunState {
  estimate = 0
  globals: Scope = new Map()
  private readonly parentOf = new Map<string, string>()
  private readonly counts = new Map<string, { done: number; total: number; res: number }>()
  private readonly dirty = new Set<string>()
  private readonly extra: Rec = {}
  private readonly taskResults: Record<string, boolean> = {}
  private readonly stored: Record<string, Rec> = {}

  constructor(ctx: RunState['ctx'], obj: KubeObject) {
    super(ctx, obj)
    const top = { done: 0, total: 0, res: 0 }
    for (const n of Object.values(this.nodes)) {
      if (!COUNTED.has(n.type)) continue
      top.total++
      if (n.phase === 'Succeeded') top.done++
      top.res += n.resourcesDuration?.cpu ?? 0
    }
    this.counts.set('', top)
  }

  initNode(n: NewNode): WfNode | undefined {
    const id = nodeId(this.name, n.name)
    let node = this.nodes[id]
    if (!node) {
      if (Object.keys(this.nodes).length >= this.ctx.maxNodes) {
        this.setAbort('cap', `Maximum number of nodes (${this.ctx.maxNodes}) exceeded; expansion stopped`)
        return undefined
      }
      node = { id, name: n.name, displayName: n.displayName, type: n.type, templateScope: n.templateScope, phase: n.phase ?? 'Running', startedAt: isoNow(), progress: '0/0' }
      this.nodes[id] = node
      if (n.parentId) this.parentOf.set(id, n.parentId)
      if (COUNTED.has(n.type)) this.bump(id, 0, 1, 0)
    }
    Object.assign(node, { templateName: n.templateName, templateRef: n.templateRef, boundaryID: n.boundaryID, inputs: n.inputs, message: n.message })
    if (n.parentId) this.parentOf.set(id, n.parentId)
    for (const from of n.linkFrom ?? []) this.addChild(from, id)
    this.touch(node)
    if (n.phase !== 'Pending') this.nodeEvent(node)
    if (TERMINAL.has(node.phase)) node.finishedAt = node.startedAt
    return node
  }

  addChild(parentId: string, childId: string): void {
    const p = this.nodes[parentId]
    if (!p) return
    p.children ??= []
    if (!p.children.includes(childId)) p.children.push(childId)
    this.touch(p)
  }

  setPhase(node: WfNode, phase: string, message?: string): void {
    if (node.phase === phase && message === undefined) return
    const was = node.phase
    node.phase = phase
    if (message !== undefined) node.message = message
    if (TERMINAL.has(phase)) node.finishedAt = isoNow()
    if (COUNTED.has(node.type) && phase === 'Succeeded' && was !== 'Succeeded') this.bump(node.id, 1, 0, 0)
    this.touch(node)
    this.nodeEvent(node)
  }

  /** Adds to the progress and resource counters of the workflow, a node and all its logical ancestors. */
  bump(id: string, done: number, total: number, res: number): void {
    const add = (key: string, n?: WfNode): { done: number; total: number; res: number } => {
      const m = /^(\d+)\/(\d+)$/.exec(n?.progress ?? '')
      const c = this.counts.get(key) ?? { done: Number(m?.[1] ?? 0), total: Number(m?.[2] ?? 0), res: n?.resourcesDuration?.cpu ?? 0 }
      c.done += done
      c.total += total
      c.res += res
      this.counts.set(key, c)
      return c
    }
    add('')
    for (let cur: string | undefined = id; cur !== undefined; cur = this.parentOf.get(cur)) {
      const n = this.nodes[cur]
      if (!n) continue
      const c = add(cur, n)
      n.progress = `${c.done}/${c.total}`
      if (c.res > 0) n.resourcesDuration = { cpu: c.res, memory: c.res }
      this.touch(n)
    }
  }

  touch(node: WfNode): void {
    this.dirty.add(node.id)
    this.scheduleFlush()
  }

  /** status.storedTemplates, as upstream keeps templates resolved through templateRef. */
  storeTemplate(key: string, tmpl: Rec): void {
    this.stored[key] = tmpl
    this.setExtra('storedTemplates', { ...this.stored })
  }

  finish(phase: string, message?: string): void {
    if (this.dead || this.finished) return
    const finishedAt = isoNow()
    const estimatedDuration = Math.max(1, Math.round((Date.now() - this.startMs) / 1000))
    const conditions = [{ type: 'PodRunning', status: 'False' }, { type: 'Completed', status: 'True' }]
    const status = { phase, startedAt: this.startedAt, finishedAt, progress: this.progress(true), estimatedDuration, conditions, ...(message ? { message } : {}) }
    this.flush(status, this.labels(phase, true))
    this.event(`Workflow${phase}`, phase === 'Succeeded' ? 'Workflow completed' : (message ?? phase), phase !== 'Succeeded')
    this.finished = true
    this.kill()
  }

  /** Pod nodes whose outputs are final (upstream: status.taskResultsCompletionStatus). */
  taskResult(id: string): void {
    this.taskResults[id] = true
    this.setExtra('taskResultsCompletionStatus', { ...this.taskResults })
  }

  setExtra(key: string, value: unknown): void {
    this.extra[key] = value
    this.scheduleFlush()
  }

  /** Status changes made in one turn of the event loop go out as one patch. */
  scheduleFlush(): void {
    if (this.flushTimer || this.dead || this.finished) return
    this.flushTimer = setImmediate(() => {
      this.flushTimer = undefined
      this.flush()
    })
  }

  progress(final = false): string {
    const top = this.counts.get('') ?? { done: 0, total: 0, res: 0 }
    return `${top.done}/${final ? top.total : Math.max(top.total, this.estimate)}`
  }

  flush(status: Rec = {}, labels?: Record<string, string>): void {
    if (this.dead) return
    if (this.flushTimer) clearImmediate(this.flushTimer)
    this.flushTimer = undefined
    const nodes: Rec = {}
    for (const id of this.dirty) if (this.nodes[id]) nodes[id] = this.nodes[id]
    this.dirty.clear()
    const running = Object.values(this.nodes).some((n) => n.type === 'Pod' && n.phase === 'Running')
    const res = this.counts.get('')?.res ?? 0
    const body: Rec = {
      progress: this.progress(),
      conditions: [{ type: 'PodRunning', status: running ? 'True' : 'False' }],
      ...(res > 0 ? { resourcesDuration: { cpu: res, memory: res } } : {}),
      ...this.extra,
      ...status,
      ...(Object.keys(nodes).length > 0 ? { nodes } : {}),
    }
    this.patch({ ...(labels ? { metadata: { labels } } : {}), status: body })
  }

  patch(body: Rec): void {
    try {
      this.ctx.em.patch({ ...WORKFLOWS, namespace: this.ns }, this.name, JSON.parse(JSON.stringify(body)))
    } catch (err) {
      // most likely deleted under us: stop quietly
      this.ctx.log(`workflow ${this.ns}/${this.name}: patch failed, stopping`, err)
      this.kill()
    }
  }

  labels(phase: string, completed: boolean): Record<string, string> {
    const l: Record<string, string> = { [`${LABEL}phase`]: phase, [`${LABEL}completed`]: String(completed) }
    if (completed && this.ctx.archiveLabels) l[`${LABEL}workflow-archiving-status`] = 'Pending'
    return l
  }

  event(reason: string, message: string, warning: boolean, node?: WfNode): void {
    if (this.dead) return
    const time = isoNow()
    const stamp = (BigInt(Date.now()) * 1000000n + eventSeq++).toString(16)
    const annotations = node ? { [`${LABEL}node-id`]: node.id, [`${LABEL}node-name`]: node.name, [`${LABEL}node-type`]: node.type } : undefined
    try {
      this.ctx.em.create({ group: '', resource: 'events', namespace: this.ns }, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${this.name}.${stamp}`, generateName: `${this.name}.`, namespace: this.ns, ...(annotations ? { annotations } : {}) },
        involvedObject: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: this.name, namespace: this.ns, uid: this.uid },
        reason,
        message,
        type: warning ? 'Warning' : 'Normal',
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
        source: { component: 'workflow-controller' },
        reportingComponent: 'workflow-controller',
      })
    } catch (err) {
      this.ctx.log(`workflow ${this.ns}/${this.name}: event ${reason} not recorded`, err)
    }
  }

  nodeEvent(n: WfNode): void {
    if (n.phase === 'Pending') return
    this.event(`WorkflowNode${n.phase}`, `${n.phase} node ${n.name}${n.message ? `: ${n.message}` : ''}`, failedPhase(n.phase), n)
  }

  podRef(): ResourceRef {
    return { group: '', resource: 'pods', namespace: this.ns }
  }
}
