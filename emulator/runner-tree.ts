// Template walking for the simulated controller: template calls, steps, DAGs, loops and `when`.
import { execLeaf } from './runner-pod.js'
import { dependsNames, evalDepends } from './runner-depends.js'
import { TERMINAL, failedPhase } from './runner-run.js'
import type { WfNode, WorkflowRun } from './runner-run.js'
import { resolveTemplate, templateKind } from './runner-spec.js'
import type { Resolved, TmplCtx } from './runner-spec.js'
import { arr, evalWhen, expandItems, itemLabel, itemScope, nodeId, rec, recs, str, strs, substitute, substituteDeep } from './runner-util.js'
import type { Rec, Scope } from './runner-util.js'

export interface Call {
  nodeName: string
  displayName: string
  /** the step, task or entrypoint reference: template / templateRef / inline, arguments */
  step: Rec
  ctx: TmplCtx
  /** the caller's scope, for the call's arguments */
  scope: Scope
  boundaryID?: string
  parentId?: string
  linkFrom?: string[]
}

const LEAF = new Set(['Pod', 'HTTP', 'Plugin', 'Suspend', 'Skipped', 'Container'])
const OK = new Set(['Succeeded', 'Skipped'])

export const outbound = (n: WfNode): string[] => (LEAF.has(n.type) || !n.outboundNodes?.length ? [n.id] : n.outboundNodes)

function continues(step: Rec, phase: string): boolean {
  const c = rec(step.continueOn)
  return (phase === 'Failed' && c.failed === true) || (phase === 'Error' && c.error === true)
}

const blocking = (step: Rec, n: WfNode | undefined): boolean => n !== undefined && failedPhase(n.phase) && !continues(step, n.phase)

function resolveInputs(tmpl: Rec, args: Rec): Rec | undefined {
  const inputs = rec(tmpl.inputs)
  const given = new Map(recs(args.parameters).map((p) => [str(p.name) ?? '', p]))
  const parameters = recs(inputs.parameters).map((p) => {
    const value = str(given.get(str(p.name) ?? '')?.value) ?? str(p.value) ?? str(p.default)
    return { ...p, ...(value !== undefined ? { value } : {}) }
  })
  if (parameters.length === 0 && inputs.artifacts === undefined) return undefined
  return { ...(parameters.length > 0 ? { parameters } : {}), ...(inputs.artifacts !== undefined ? { artifacts: inputs.artifacts } : {}) }
}

const halt = (run: WorkflowRun, node: WfNode): void => run.setPhase(node, 'Failed', run.abort?.message)

/** Runs one template call as a node (reusing a finished node of the same name, for resumed workflows). */
export async function execTemplate(run: WorkflowRun, call: Call): Promise<WfNode | undefined> {
  const prior = run.nodes[nodeId(run.name, call.nodeName)]
  if (prior && TERMINAL.has(prior.phase)) return prior
  if (!(await run.gate())) return undefined
  const base = { name: call.nodeName, displayName: call.displayName, boundaryID: call.boundaryID, parentId: call.parentId, linkFrom: call.linkFrom, templateScope: call.ctx.scope }
  let r: Resolved
  try {
    r = resolveTemplate(run.ctx.em, run.ns, call.step, call.ctx)
  } catch (err) {
    return run.initNode({ ...base, type: 'Skipped', templateName: str(call.step.template), phase: 'Error', message: err instanceof Error ? err.message : String(err) })
  }
  if (r.storedKey) run.storeTemplate(r.storedKey, r.tmpl)
  const inputs = resolveInputs(r.tmpl, rec(substituteDeep(rec(call.step.arguments), call.scope)))
  const scope: Scope = new Map(run.globals)
  for (const p of recs(inputs?.parameters)) if (str(p.value) !== undefined) scope.set(`inputs.parameters.${str(p.name)}`, str(p.value) ?? '')
  const tmpl = rec(substituteDeep(r.tmpl, scope))
  const kind = templateKind(tmpl)
  const node = run.initNode({
    ...base,
    type: kind ?? 'Skipped',
    templateName: r.templateName,
    templateRef: r.templateRef,
    inputs,
    phase: kind === undefined ? 'Error' : kind === 'Pod' ? 'Pending' : 'Running',
    message: kind === undefined ? `template '${str(r.tmpl.name) ?? ''}' has no type` : undefined,
  })
  if (!node || kind === undefined) return node
  if (kind === 'Steps') await execSteps(run, node, tmpl, r.ctx, scope)
  else if (kind === 'DAG') await execDag(run, node, tmpl, r.ctx, scope)
  else await execLeaf(run, node, tmpl, r.templateName ?? str(r.templateRef?.template))
  return node
}

/** A step or task: a `when` that evaluates false gives a Skipped node, anything else runs. */
async function runChild(run: WorkflowRun, step: Rec, call: Call): Promise<WfNode | undefined> {
  const when = str(step.when)
  const w = when === undefined ? undefined : substitute(when, call.scope)
  if (w === undefined || evalWhen(w) !== false) return execTemplate(run, call)
  if (!(await run.gate())) return undefined
  const { nodeName: name, displayName, boundaryID, parentId, linkFrom } = call
  return run.initNode({ name, displayName, boundaryID, parentId, linkFrom, type: 'Skipped', templateScope: call.ctx.scope, templateName: str(step.template), phase: 'Skipped', message: `when '${w}' evaluated false` })
}

/** One call per loop item (or a single call when the step has no loop). */
function variants(step: Rec, scope: Scope): { suffix: string; scope: Scope }[] | undefined {
  const items = expandItems(step, scope)
  return items?.map((it, j) => ({ suffix: `(${j}:${itemLabel(it)})`, scope: itemScope(it, scope) }))
}

async function execSteps(run: WorkflowRun, node: WfNode, tmpl: Rec, ctx: TmplCtx, scope: Scope): Promise<void> {
  // upstream chains groups: Steps → [0] → each step of [0] → [1] → …
  let prev = [node.id]
  const groups = arr(tmpl.steps)
  for (let i = 0; i < groups.length; i++) {
    if (!(await run.gate())) return halt(run, node)
    const sg = run.initNode({ name: `${node.name}[${i}]`, displayName: `[${i}]`, type: 'StepGroup', templateScope: node.templateScope, boundaryID: node.id, parentId: node.id, linkFrom: prev })
    if (!sg) return halt(run, node)
    const jobs: Promise<[Rec, WfNode | undefined]>[] = []
    for (const step of recs(groups[i])) {
      const name = str(step.name) ?? ''
      for (const v of variants(step, scope) ?? [{ suffix: '', scope }]) {
        const call: Call = { nodeName: `${sg.name}.${name}${v.suffix}`, displayName: `${name}${v.suffix}`, step, ctx, scope: v.scope, boundaryID: node.id, parentId: sg.id, linkFrom: [sg.id] }
        jobs.push(runChild(run, step, call).then((n): [Rec, WfNode | undefined] => [step, n]))
      }
    }
    const results = await Promise.all(jobs)
    const bad = results.find(([s, n]) => blocking(s, n))?.[1]
    if (bad) {
      run.setPhase(sg, 'Failed', `child '${bad.id}' failed`)
      node.outboundNodes = results.flatMap(([, n]) => (n ? outbound(n) : []))
      return run.setPhase(node, 'Failed', sg.message)
    }
    if (results.some(([, n]) => !n)) {
      halt(run, sg)
      return halt(run, node)
    }
    run.setPhase(sg, 'Succeeded')
    const out = results.flatMap(([, n]) => (n ? outbound(n) : []))
    prev = out.length > 0 ? out : [sg.id]
  }
  node.outboundNodes = prev
  run.setPhase(node, 'Succeeded')
}

/** The outcome of a dependency as `depends` sees it: `A` alone means Succeeded, Skipped or continued-on. */
function outcome(step: Rec, n: WfNode | undefined, result: string | undefined, run: WorkflowRun): boolean {
  if (!n) return false
  const p = n.phase
  const kids = (n.children ?? []).map((id) => run.nodes[id]?.phase)
  switch (result) {
    case undefined: return OK.has(p) || continues(step, p)
    case 'Errored': return p === 'Error'
    case 'Daemoned': return false
    case 'AnySucceeded': return kids.includes('Succeeded')
    case 'AllFailed': return kids.length > 0 && kids.every((k) => k === 'Failed')
    default: return p === result
  }
}

async function execDag(run: WorkflowRun, node: WfNode, tmpl: Rec, ctx: TmplCtx, scope: Scope): Promise<void> {
  const dag = rec(tmpl.dag)
  const byName = new Map(recs(dag.tasks).map((t) => [str(t.name) ?? '', t]))
  const known = new Set(byName.keys())
  const depsOf = (t: Rec): string[] => (t.dependencies !== undefined ? strs(t.dependencies).filter((d) => known.has(d)) : dependsNames(str(t.depends) ?? '', known))
  const failFast = dag.failFast !== false
  // a failure some `depends` expects (`A.Failed`, `A.AnySucceeded`, …) is handled, so it does not stop the DAG early
  const anticipated = new Set([...byName.values()].flatMap((t) => [...(str(t.depends) ?? '').matchAll(/([^\s&|!()]+)\.(?:Failed|Errored|AnySucceeded|AllFailed)\b/g)].map((m) => m[1] ?? '')))
  let failed = false
  const handled = new Set<string>()
  const memo = new Map<string, Promise<WfNode | undefined>>()

  const body = async (name: string, t: Rec, chain: string[]): Promise<WfNode | undefined> => {
    const deps = depsOf(t)
    const depNodes = await Promise.all(deps.map((d) => runTask(d, [...chain, name])))
    if (!(await run.gate())) return undefined
    if (deps.length > 0 && depNodes.every((n) => !n)) return undefined
    const nodeName = `${node.name}.${name}`
    const linkFrom = deps.length > 0 ? [...new Set(depNodes.flatMap((n) => (n ? outbound(n) : [])))] : [node.id]
    const base = { boundaryID: node.id, parentId: node.id, linkFrom, templateScope: ctx.scope, templateName: str(t.template) }
    const depends = str(t.depends)
    const go = depends !== undefined
      ? evalDepends(depends, (d, res) => outcome(byName.get(d) ?? {}, depNodes[deps.indexOf(d)], res, run))
      : deps.every((d, i) => { const n = depNodes[i]; return n !== undefined && (OK.has(n.phase) || continues(byName.get(d) ?? {}, n.phase)) })
    if (!go && depends === undefined) return undefined
    if (!go) return run.initNode({ ...base, name: nodeName, displayName: name, type: 'Skipped', phase: 'Omitted', message: 'omitted: depends condition not met' })
    if (depends !== undefined) for (const d of deps) handled.add(d)
    if (failFast && failed) return undefined
    const vs = variants(t, scope)
    let result: WfNode | undefined
    if (vs === undefined) {
      result = await runChild(run, t, { ...base, nodeName, displayName: name, step: t, ctx, scope })
    } else {
      result = run.initNode({ ...base, name: nodeName, displayName: name, type: 'TaskGroup' })
      if (!result) return undefined
      const tg = result
      const kids = await Promise.all(vs.map((v) => runChild(run, t, { nodeName: nodeName + v.suffix, displayName: name + v.suffix, step: t, ctx, scope: v.scope, boundaryID: node.id, parentId: tg.id, linkFrom: [tg.id] })))
      tg.outboundNodes = kids.flatMap((k) => (k ? outbound(k) : []))
      const bad = kids.find((k) => k && failedPhase(k.phase))
      if (bad) run.setPhase(tg, bad.phase)
      else if (kids.some((k) => !k)) halt(run, tg)
      else run.setPhase(tg, 'Succeeded')
    }
    if (blocking(t, result) && !anticipated.has(name)) failed = true
    return result
  }
  const runTask = (name: string, chain: string[]): Promise<WfNode | undefined> => {
    const t = byName.get(name)
    if (!t || chain.includes(name)) return Promise.resolve(undefined)
    let p = memo.get(name)
    if (!p) {
      p = body(name, t, chain)
      memo.set(name, p)
    }
    return p
  }

  const dependedOn = new Set([...byName.values()].flatMap(depsOf))
  const targets = str(dag.target)?.split(/\s+/).filter(Boolean) ?? [...known].filter((k) => !dependedOn.has(k))
  const results = await Promise.all(targets.map((t) => runTask(t, [])))
  const all = await Promise.all([...memo.entries()].map(async ([k, p]): Promise<[string, WfNode | undefined]> => [k, await p]))
  node.outboundNodes = [...new Set(results.flatMap((n) => (n ? outbound(n) : [])))]
  const bad = all.find(([k, n]) => blocking(byName.get(k) ?? {}, n) && !handled.has(k))?.[1]
  if (bad) run.setPhase(node, bad.phase === 'Error' ? 'Error' : 'Failed')
  else if (run.halted && all.some(([, n]) => !n)) halt(run, node)
  else run.setPhase(node, 'Succeeded')
}
