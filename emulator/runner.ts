/**
 * A simulated Argo workflow controller + kubelet over the emulator's store: it drives workflows
 * Pending → Running → Succeeded/Failed/Error, writing status.nodes, pods with logs, and events,
 * the way the real controller would. Only the Emulator's direct store API is used (no HTTP).
 */
import type { Emulator, KubeObject } from './types.js'
import { drive } from './runner-drive.js'
import { TERMINAL, WorkflowRun } from './runner-run.js'
import type { RunContext } from './runner-run.js'
import { WORKFLOWS } from './runner-spec.js'
import { rec, str } from './runner-util.js'

export interface RunnerOptions {
  /** simulated duration of each pod; default 1000 (sandbox); tests use ~20 */
  stepMs?: number
  /** on completion also label workflows.argoproj.io/workflow-archiving-status=Pending; default false */
  archiveLabels?: boolean
  /** namespaces to run workflows in; absent = all */
  namespaces?: string[]
  /** cap on nodes per workflow, so recursive examples terminate; default 500 */
  maxNodes?: number
  /** where errors caught inside the runner go; default console.error */
  log?: (msg: string, err?: unknown) => void
}

export interface Runner {
  stop(): Promise<void>
  /** resolves when no workflow is in progress (workflows waiting on a resume or on spec.suspend count as idle) */
  idle(): Promise<void>
}

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function startRunner(emulator: Emulator, opts: RunnerOptions = {}): Runner {
  const ctx: RunContext = {
    em: emulator,
    stepMs: opts.stepMs ?? 1000,
    archiveLabels: opts.archiveLabels ?? false,
    maxNodes: opts.maxNodes ?? 500,
    log: opts.log ?? ((msg, err) => console.error(`[runner] ${msg}`, err ?? '')),
  }
  const namespaces = opts.namespaces ? new Set(opts.namespaces) : undefined
  const runs = new Map<string, { run: WorkflowRun; done: Promise<void> }>()
  let stopped = false
  const keyOf = (obj: KubeObject): string => `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`

  const consider = (obj: KubeObject): void => {
    const ns = obj.metadata.namespace ?? ''
    if (stopped || !obj.metadata.name || (namespaces && !namespaces.has(ns))) return
    const key = keyOf(obj)
    const current = runs.get(key)
    if (current && (!obj.metadata.uid || current.run.uid === obj.metadata.uid)) return current.run.update(obj)
    if (current) current.run.kill() // same name, new object: the old one was replaced
    // Pending/Running without a run here: a restart, or an API-side retry that reset the phase
    if (TERMINAL.has(str(rec(obj.status).phase) ?? '')) return
    const run = new WorkflowRun(ctx, obj)
    const entry = { run, done: Promise.resolve() }
    entry.done = Promise.resolve()
      .then(() => drive(run))
      .catch((err: unknown) => ctx.log(`workflow ${key}: runner error`, err))
      .finally(() => {
        if (runs.get(key) === entry) runs.delete(key)
      })
    runs.set(key, entry)
  }

  // the garbage collector's part: pods owned by a deleted workflow go with it
  const collectPods = (wf: KubeObject): void => {
    const ref = { group: '', resource: 'pods', namespace: wf.metadata.namespace ?? '' }
    for (const pod of emulator.list(ref)) {
      const owned = Array.isArray(pod.metadata.ownerReferences) && pod.metadata.ownerReferences.some((o) => rec(o).uid === wf.metadata.uid)
      if (!owned || !pod.metadata.name) continue
      try {
        emulator.remove(ref, pod.metadata.name)
      } catch {
        // already gone
      }
    }
  }

  const unsubscribe = emulator.subscribe(WORKFLOWS, (type, obj) => {
    try {
      if (type !== 'DELETED') return consider(obj)
      const entry = runs.get(keyOf(obj))
      if (entry && (!obj.metadata.uid || entry.run.uid === obj.metadata.uid)) {
        entry.run.kill()
        runs.delete(keyOf(obj))
      }
      if (obj.metadata.uid && (!namespaces || namespaces.has(obj.metadata.namespace ?? ''))) collectPods(obj)
    } catch (err) {
      ctx.log(`watch ${type} ${keyOf(obj)} failed`, err)
    }
  })
  try {
    const refs = opts.namespaces ? opts.namespaces.map((namespace) => ({ ...WORKFLOWS, namespace })) : [WORKFLOWS]
    for (const ref of refs) for (const obj of emulator.list(ref)) consider(obj)
  } catch (err) {
    ctx.log('initial workflow list failed', err)
  }

  return {
    async stop() {
      stopped = true
      unsubscribe()
      const all = [...runs.values()]
      for (const { run } of all) run.kill()
      await Promise.all(all.map((e) => e.done))
      runs.clear()
    },
    async idle() {
      // a workflow created just now is registered synchronously but starts on a later tick
      await tick()
      while ([...runs.values()].some((e) => e.run.busy())) await tick(5)
    },
  }
}
