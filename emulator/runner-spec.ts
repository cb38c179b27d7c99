// Spec resolution for the simulated controller: workflowTemplateRef merging and template lookup.
import type { Emulator, ResourceRef } from './types.js'
import { arr, isRec, rec, recs, str } from './runner-util.js'
import type { Rec } from './runner-util.js'

export const WORKFLOWS: ResourceRef = { group: 'argoproj.io', resource: 'workflows' }
const wftRef = (namespace: string): ResourceRef => ({ group: 'argoproj.io', resource: 'workflowtemplates', namespace })
const CWFT: ResourceRef = { group: 'argoproj.io', resource: 'clusterworkflowtemplates' }

/** Where templates are looked up; `scope` is the node's templateScope (`local/<wf>`, `namespaced/<wft>`, `cluster/<cwft>`). */
export interface TmplCtx {
  templates: Rec[]
  scope: string
}

export class SpecError extends Error {}

export function loadTemplateSpec(em: Emulator, ns: string, name: string, cluster: boolean): Rec {
  const obj = cluster ? em.get(CWFT, name) : em.get(wftRef(ns), name)
  if (!obj) throw new SpecError(`${cluster ? 'clusterworkflowtemplates' : 'workflowtemplates'}.argoproj.io "${name}" not found`)
  return rec(obj.spec)
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (!isRec(base) || !isRec(over)) return over
  const out: Rec = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v)
  return out
}

/** Lists keyed by `name`: entries of `over` replace (templates) or merge into (parameters) same-named ones. */
function mergeByName(base: unknown, over: unknown, deep: boolean): Rec[] {
  const out = new Map<string, Rec>()
  for (const x of recs(base)) out.set(str(x.name) ?? '', x)
  for (const x of recs(over)) {
    const k = str(x.name) ?? ''
    const prev = out.get(k)
    out.set(k, deep && prev ? rec(deepMerge(prev, x)) : x)
  }
  return [...out.values()]
}

/** JoinWorkflowSpec: the workflow's own fields win over the template's. */
export function mergeSpec(tmplSpec: Rec, wfSpec: Rec): Rec {
  const merged = rec(deepMerge(tmplSpec, wfSpec))
  merged.templates = mergeByName(tmplSpec.templates, wfSpec.templates, false)
  const targs = rec(tmplSpec.arguments)
  const wargs = rec(wfSpec.arguments)
  if (targs.parameters !== undefined || wargs.parameters !== undefined) {
    merged.arguments = { ...rec(merged.arguments), parameters: mergeByName(targs.parameters, wargs.parameters, true) }
  }
  return merged
}

/** The spec the workflow runs with, and what goes into status.storedWorkflowTemplateSpec (when a ref was used). */
export function resolveWorkflowSpec(em: Emulator, ns: string, spec: Rec): { spec: Rec; stored?: Rec } {
  const ref = rec(spec.workflowTemplateRef)
  const name = str(ref.name)
  if (!name) return { spec }
  const { workflowTemplateRef: _ref, ...own } = spec
  const merged = mergeSpec(loadTemplateSpec(em, ns, name, ref.clusterScope === true), own)
  return { spec: merged, stored: merged }
}

export interface Resolved {
  tmpl: Rec
  ctx: TmplCtx
  templateName?: string
  templateRef?: Rec
  /** key for status.storedTemplates when resolved through a templateRef */
  storedKey?: string
}

const findTemplate = (ctx: TmplCtx, name: string): Rec | undefined => ctx.templates.find((t) => t.name === name)

/** Resolves a step/task/entrypoint reference (`template`, `templateRef` or `inline`) to its template. */
export function resolveTemplate(em: Emulator, ns: string, step: Rec, ctx: TmplCtx): Resolved {
  if (isRec(step.inline)) return { tmpl: step.inline, ctx }
  const ref = step.templateRef
  if (isRec(ref)) {
    const name = str(ref.name) ?? ''
    const template = str(ref.template) ?? ''
    const cluster = ref.clusterScope === true
    let spec: Rec
    try {
      spec = loadTemplateSpec(em, ns, name, cluster)
    } catch {
      // an absent WorkflowTemplate is simulated as a plain pod, so sandbox examples still run
      return { tmpl: { name: template, container: { image: 'argoproj/argosay:v2' } }, ctx, templateRef: ref }
    }
    const scope = `${cluster ? 'cluster' : 'namespaced'}/${name}`
    const inner: TmplCtx = { templates: recs(spec.templates), scope }
    const tmpl = findTemplate(inner, template)
    if (!tmpl) throw new SpecError(`template ${template} not found in workflow template ${name}`)
    return { tmpl, ctx: inner, templateName: undefined, templateRef: ref, storedKey: `${scope}/${template}` }
  }
  const name = str(step.template) ?? ''
  const tmpl = findTemplate(ctx, name)
  if (!tmpl) throw new SpecError(`template ${name} not found`)
  return { tmpl, ctx, templateName: name }
}

export type TemplateKind = 'Pod' | 'HTTP' | 'Plugin' | 'Suspend' | 'Steps' | 'DAG'

export function templateKind(t: Rec): TemplateKind | undefined {
  if (t.container !== undefined || t.script !== undefined || t.containerSet !== undefined) return 'Pod'
  if (t.resource !== undefined || t.data !== undefined) return 'Pod'
  if (t.http !== undefined) return 'HTTP'
  if (t.plugin !== undefined) return 'Plugin'
  if (t.suspend !== undefined) return 'Suspend'
  if (t.steps !== undefined) return 'Steps'
  if (t.dag !== undefined) return 'DAG'
  return undefined
}

/** Rough count of pod nodes for the initial `0/N` progress; loops multiply, recursion counts once. */
export function estimatePods(ctx: TmplCtx, name: string, stack: string[] = []): number {
  const t = findTemplate(ctx, name)
  if (!t || stack.includes(name) || stack.length > 20) return 0
  const kind = templateKind(t)
  if (kind === 'Pod' || kind === 'HTTP' || kind === 'Plugin') return 1
  const calls: Rec[] = kind === 'Steps' ? recs(arr(t.steps).flat()) : kind === 'DAG' ? recs(rec(t.dag).tasks) : []
  let n = 0
  for (const c of calls) {
    const times = Array.isArray(c.withItems) ? c.withItems.length : isRec(c.withSequence) ? Number(str(rec(c.withSequence).count) ?? 1) || 1 : 1
    const inner = str(c.template)
    n += times * (inner ? estimatePods(ctx, inner, [...stack, name]) : 1)
  }
  return n
}
