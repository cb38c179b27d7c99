// Per-workflow state of the simulated controller: identity, nodes, abort/suspend/deadline handling, timers.
import type { Emulator, KubeObject } from './types.js'
import { isoNow, rec, str } from './runner-util.js'
import type { Rec } from './runner-util.js'

export interface WfNode {
  id: string
  name: string
  displayName: string
  type: string
  templateName?: string
  templateRef?: Rec
  templateScope: string
  phase: string
  boundaryID?: string
  message?: string
  children?: string[]
  outboundNodes?: string[]
  startedAt: string
  finishedAt?: string
  progress: string
  resourcesDuration?: { cpu: number; memory: number }
  hostNodeName?: string
  inputs?: Rec
  outputs?: Rec
}

export interface RunContext {
  em: Emulator
  stepMs: number
  archiveLabels: boolean
  maxNodes: number
  log: (msg: string, err?: unknown) => void
}

export const TERMINAL = new Set(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted'])
export const failedPhase = (p: string): boolean => p === 'Failed' || p === 'Error'
/** node types counted in progress (a pod, or work done outside the pod) */
export const COUNTED = new Set(['Pod', 'HTTP', 'Plugin'])

/** Thrown out of sleeps once the workflow is deleted or the runner stops: unwinds the run without writes. */
export class Cancelled extends Error {}

export interface NewNode {
  name: string
  displayName: string
  type: string
  templateScope: string
  templateName?: string
  templateRef?: Rec
  boundaryID?: string
  /** logical parent for progress roll-up */
  parentId?: string
  /** nodes that get this one as a child */
  linkFrom?: string[]
  inputs?: Rec
  phase?: string
  message?: string
}

export class RunState {
  readonly name: string
  readonly ns: string
  readonly uid: string
  readonly nodes: Record<string, WfNode>
  readonly startedAt: string
  readonly startMs: number
  initialPhase: string
  liveSpec: Rec
  abort?: { kind: 'Terminate' | 'Stop' | 'deadline' | 'cap'; message: string }
  inExit = false
  dead = false
  finished = false
  readonly meta: KubeObject['metadata']
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly sleepers = new Set<() => void>()
  private readonly watchers = new Set<() => void>()
  protected flushTimer?: NodeJS.Immediate
  private deadlineTimer?: NodeJS.Timeout

  constructor(readonly ctx: RunContext, obj: KubeObject) {
    this.name = obj.metadata.name ?? ''
    this.ns = obj.metadata.namespace ?? 'default'
    this.uid = obj.metadata.uid ?? ''
    this.meta = obj.metadata
    const status = rec(obj.status)
    this.initialPhase = str(status.phase) ?? ''
    this.startedAt = str(status.startedAt) ?? isoNow()
    // startedAt has second precision; deadlines and durations need the real start
    this.startMs = str(status.startedAt) ? Date.parse(this.startedAt) : Date.now()
    this.nodes = structuredClone(rec(status.nodes)) as Record<string, WfNode>
    this.liveSpec = rec(obj.spec)
    this.update(obj)
  }

  get halted(): boolean {
    return this.abort !== undefined && !(this.inExit && this.abort.kind === 'Stop')
  }

  busy(): boolean {
    return !this.finished && (this.timers.size > 0 || this.flushTimer !== undefined)
  }

  /** Latest object from the store: shutdown, suspend, deadline, and suspend nodes resumed by someone else. */
  update(obj: KubeObject): void {
    if (this.dead || this.finished) return
    this.liveSpec = rec(obj.spec)
    const shutdown = str(this.liveSpec.shutdown)
    if ((shutdown === 'Terminate' || shutdown === 'Stop') && !this.abort) this.setAbort(shutdown, `Stopped with strategy '${shutdown}'`)
    const ads = this.liveSpec.activeDeadlineSeconds
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    if (typeof ads === 'number' && !this.abort) {
      const left = this.startMs + ads * 1000 - Date.now()
      const hit = (): void => this.setAbort('deadline', 'Step exceeded its deadline')
      if (left <= 0) hit()
      else this.deadlineTimer = setTimeout(hit, left)
    }
    const stored = rec(rec(obj.status).nodes)
    for (const n of Object.values(this.nodes)) {
      const s = rec(stored[n.id])
      if (n.type === 'Suspend' && n.phase === 'Running' && TERMINAL.has(str(s.phase) ?? '')) {
        Object.assign(n, { phase: s.phase, message: str(s.message), finishedAt: str(s.finishedAt) ?? isoNow(), outputs: s.outputs })
      }
    }
    for (const w of [...this.watchers]) w()
  }

  setAbort(kind: 'Terminate' | 'Stop' | 'deadline' | 'cap', message: string): void {
    this.abort ??= { kind, message }
    for (const w of [...this.sleepers, ...this.watchers]) w()
  }

  /** Stops all work; no further writes (workflow deleted, or runner stopped). */
  kill(): void {
    this.dead = true
    for (const t of this.timers) clearTimeout(t)
    if (this.flushTimer) clearImmediate(this.flushTimer)
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.flushTimer = undefined
    for (const w of [...this.sleepers, ...this.watchers]) w()
  }

  checkDead(): void {
    if (this.dead) throw new Cancelled(this.name)
  }

  /** Waits `ms`, cut short when the run is halted or killed. */
  async sleep(ms: number): Promise<void> {
    this.checkDead()
    if (!this.halted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t)
          this.timers.delete(t)
          this.sleepers.delete(done)
          resolve()
        }
        const t = setTimeout(done, ms)
        this.timers.add(t)
        this.sleepers.add(done)
      })
    }
    this.checkDead()
  }

  /** Resolves on the next change from outside (spec edits, resumed nodes, abort). Not counted as busy. */
  async nextChange(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.watchers.delete(done)
        resolve()
      }
      this.watchers.add(done)
    })
    this.checkDead()
  }

  /** Before starting a node: hold while `spec.suspend` is set; false when the run is halted. */
  async gate(): Promise<boolean> {
    this.checkDead()
    while (!this.halted && this.liveSpec.suspend === true) await this.nextChange()
    return !this.halted
  }
}
