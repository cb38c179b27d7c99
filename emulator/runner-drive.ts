// The lifecycle of one workflow in the simulated controller: Pending → Running → nodes → onExit → done.
import { Cancelled, failedPhase } from './runner-run.js'
import type { WfNode, WorkflowRun } from './runner-run.js'
import { SpecError, estimatePods, resolveWorkflowSpec } from './runner-spec.js'
import type { TmplCtx } from './runner-spec.js'
import { execTemplate } from './runner-tree.js'
import { rec, recs, str } from './runner-util.js'
import type { Rec, Scope } from './runner-util.js'

function globals(run: WorkflowRun, spec: Rec): Scope {
  const meta = run.meta
  const g: Scope = new Map([
    ['workflow.name', run.name],
    ['workflow.namespace', run.ns],
    ['workflow.uid', run.uid],
    ['workflow.serviceAccountName', str(spec.serviceAccountName) ?? 'default'],
    ['workflow.creationTimestamp', meta.creationTimestamp ?? run.startedAt],
    ['workflow.mainEntrypoint', str(spec.entrypoint) ?? ''],
  ])
  for (const [k, v] of Object.entries(meta.labels ?? {})) g.set(`workflow.labels.${k}`, v)
  for (const [k, v] of Object.entries(meta.annotations ?? {})) g.set(`workflow.annotations.${k}`, v)
  for (const p of recs(rec(spec.arguments).parameters)) {
    const v = str(p.value) ?? str(p.default)
    if (v !== undefined) g.set(`workflow.parameters.${str(p.name) ?? ''}`, v)
  }
  return g
}

function outcome(run: WorkflowRun, root: WfNode | undefined): [string, string | undefined] {
  if (run.abort) return [run.abort.kind === 'cap' ? 'Error' : 'Failed', run.abort.message]
  if (!root) return ['Error', 'workflow did not start']
  if (failedPhase(root.phase)) return [root.phase, root.message]
  return ['Succeeded', undefined]
}

export async function drive(run: WorkflowRun): Promise<void> {
  const { em, stepMs } = run.ctx
  try {
    let resolved: { spec: Rec; stored?: Rec }
    try {
      resolved = resolveWorkflowSpec(em, run.ns, run.liveSpec)
    } catch (err) {
      if (err instanceof SpecError) return run.finish('Error', err.message)
      throw err
    }
    const { spec, stored } = resolved
    const ctx: TmplCtx = { templates: recs(spec.templates), scope: `local/${run.name}` }
    const entry = str(spec.entrypoint) ?? ''
    const onExit = str(spec.onExit)
    run.estimate = estimatePods(ctx, entry) + (onExit ? estimatePods(ctx, onExit) : 0)
    run.globals = globals(run, spec)
    if (run.initialPhase === '') {
      run.flush({ phase: 'Pending', startedAt: run.startedAt }, run.labels('Pending', false))
      await run.sleep(Math.max(1, Math.min(200, Math.round(stepMs / 5))))
    }
    // also on resume: a retried workflow comes back Running but still labelled completed, with a finishedAt
    const extra = stored ? { storedWorkflowTemplateSpec: stored } : {}
    run.flush({ phase: 'Running', startedAt: run.startedAt, finishedAt: null, ...extra, artifactRepositoryRef: { default: true, artifactRepository: {} }, artifactGCStatus: { notSpecified: true } }, run.labels('Running', false))
    if (run.initialPhase !== 'Running') run.event('WorkflowRunning', 'Workflow Running', false)
    const root = await execTemplate(run, { nodeName: run.name, displayName: run.name, step: { template: entry, arguments: spec.arguments }, ctx, scope: run.globals })
    let [phase, message] = outcome(run, root)
    if (onExit && run.abort?.kind !== 'Terminate' && run.abort?.kind !== 'cap') {
      run.inExit = true
      run.globals.set('workflow.status', phase)
      run.globals.set('workflow.duration', String((Date.now() - run.startMs) / 1000))
      const failures = Object.values(run.nodes).filter((n) => failedPhase(n.phase) && n.type === 'Pod')
      run.globals.set('workflow.failures', JSON.stringify(failures.map((n) => ({ displayName: n.displayName, message: n.message, templateName: n.templateName, phase: n.phase, podName: n.id, finishedAt: n.finishedAt }))))
      const name = `${run.name}.onExit`
      const exitNode = await execTemplate(run, { nodeName: name, displayName: name, step: { template: onExit }, ctx, scope: run.globals })
      if (phase === 'Succeeded' && exitNode && failedPhase(exitNode.phase)) [phase, message] = [exitNode.phase, exitNode.message]
    }
    run.finish(phase, message)
  } catch (err) {
    if (err instanceof Cancelled) return
    run.ctx.log(`workflow ${run.ns}/${run.name}: simulation failed`, err)
    run.finish('Error', err instanceof Error ? err.message : String(err))
  }
}
