// Template holders (steps, DAG tasks, hooks) and DAG structure, after
// validateSteps / validateDAG / validateTemplateHolder / verifyNoCycles in
// upstream workflow/validate/validate.go.
import { checkNamedList, workflowFieldNameErrors } from './names.js'
import { arr, isRec, join, rec, str, type Problems, type Rec } from './util.js'

export type Resolver = (ref: { name: string; clusterScope: boolean }) => unknown | undefined

export interface Ctx {
  p: Problems
  lint: boolean
  resolve?: Resolver
  /** Templates callable by name from the spec being validated. */
  local: Map<string, Rec>
  /** Validates an inline template (passed in to keep the module graph acyclic). */
  template: (tmpl: Rec, path: string, label: string) => void
}

/** The templates of a resolved WorkflowTemplate / ClusterWorkflowTemplate (or of a bare spec). */
export function templatesOf(resolved: unknown): unknown[] | undefined {
  const r = rec(resolved)
  return arr(rec(r?.spec)?.templates) ?? arr(r?.templates)
}

function checkTemplateRef(ref: Rec, path: string, label: string, ctx: Ctx): void {
  const name = str(ref.name)
  const tmpl = str(ref.template)
  if (!name || !tmpl || !ctx.resolve) return
  const resolved = ctx.resolve({ name, clusterScope: ref.clusterScope === true })
  // Lint mode only warns about references it cannot resolve (upstream: "template reference need resolution").
  if (ctx.lint) return
  if (resolved === undefined) {
    ctx.p.add(path, `${label} template reference ${name}.${tmpl} not found`)
    return
  }
  const templates = templatesOf(resolved)
  if (templates && !templates.some((t) => rec(t)?.name === tmpl)) {
    ctx.p.add(join(path, 'template'), `${label} template ${tmpl} not found in workflow template ${name}`)
  }
}

/** A step, task or hook must name a local template, a templateRef or an inline template. */
export function checkHolder(holder: Rec, path: string, label: string, ctx: Ctx): void {
  const ref = rec(holder.templateRef)
  const inline = rec(holder.inline)
  if (ref) return checkTemplateRef(ref, join(path, 'templateRef'), label, ctx)
  if (typeof holder.template === 'string' && holder.template !== '') {
    if (!ctx.local.has(holder.template)) ctx.p.add(join(path, 'template'), `${label} template '${holder.template}' undefined`)
    return
  }
  if (inline) return ctx.template(inline, join(path, 'inline'), `${label}.inline`)
  if (holder.template !== undefined && typeof holder.template !== 'string') return
  if (holder.templateRef !== undefined || holder.inline !== undefined) return
  ctx.p.add(path, `${label} must specify one of template, templateRef or inline`)
}

function checkHooks(hooks: unknown, path: string, label: string, ctx: Ctx): void {
  const h = rec(hooks)
  if (!h) return
  for (const [name, hook] of Object.entries(h)) {
    if (isRec(hook)) checkHolder(hook, join(path, name), `${label}.hooks.${name}`, ctx)
  }
}

/** Hooks of the workflow spec itself (spec.hooks). */
export function checkSpecHooks(hooks: unknown, path: string, ctx: Ctx): void {
  const h = rec(hooks)
  if (!h) return
  for (const [name, hook] of Object.entries(h)) {
    if (isRec(hook)) checkHolder(hook, join(path, name), `hooks.${name}`, ctx)
  }
}

function stepCommon(step: Rec, path: string, label: string, ctx: Ctx): void {
  checkHolder(step, path, label, ctx)
  checkHooks(step.hooks, join(path, 'hooks'), label, ctx)
  const onExit = str(step.onExit)
  if (onExit && !ctx.local.has(onExit)) ctx.p.add(join(path, 'onExit'), `${label}.onExit template '${onExit}' undefined`)
}

export function checkSteps(tmpl: Rec, path: string, label: string, ctx: Ctx): void {
  const groups = arr(tmpl.steps)
  if (!groups) return
  const seen = new Set<string>()
  groups.forEach((group, i) => {
    arr(group)?.forEach((raw, j) => {
      const step = rec(raw)
      if (!step) return
      const at = join(join(join(path, 'steps'), i), j)
      const name = str(step.name)
      if (step.name === undefined || name === '') {
        ctx.p.add(join(at, 'name'), `${label}.steps[${i}].name is required`)
        return
      }
      if (name === undefined) return
      if (seen.has(name)) ctx.p.add(join(at, 'name'), `${label}.steps[${i}].name '${name}' is not unique`)
      const errs = workflowFieldNameErrors(name)
      if (errs.length > 0) ctx.p.add(join(at, 'name'), `${label}.steps[${i}].name '${name}' is invalid: ${errs.join(';')}`)
      seen.add(name)
      stepCommon(step, at, `${label}.steps[${i}].${name}`, ctx)
    })
  })
}

const DEPENDS_RESULT = /^(.+)\.(Succeeded|Failed|Errored|Skipped|Omitted|Daemoned|AnySucceeded|AllFailed)$/

/** Task names referenced by a `depends` expression, e.g. "a && (b.Failed || !c.Skipped)". */
export function dependsNames(expr: string): string[] {
  return expr
    .replace(/&&|\|\||[!()]/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t) => DEPENDS_RESULT.exec(t)?.[1] ?? t)
}

function visitCycle(name: string, stack: string[], deps: Map<string, string[]>, done: Set<string>): string[] | undefined {
  if (done.has(name)) return undefined
  for (const d of deps.get(name) ?? []) {
    const at = stack.indexOf(d)
    if (at >= 0) return [...stack.slice(at), d]
    const cycle = visitCycle(d, [...stack, d], deps, done)
    if (cycle) return cycle
  }
  done.add(name)
  return undefined
}

/** The first dependency cycle found, as task names with the start repeated at the end. */
function findCycle(order: string[], deps: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>()
  for (const name of order) {
    const cycle = visitCycle(name, [name], deps, done)
    if (cycle) return cycle
  }
  return undefined
}

export function checkDag(tmpl: Rec, path: string, label: string, ctx: Ctx): void {
  const dag = rec(tmpl.dag)
  const tasks = arr(dag?.tasks)
  if (!dag || !tasks) return
  const dagPath = join(path, 'dag')
  const tasksPath = join(dagPath, 'tasks')
  const names = checkNamedList(tasks, tasksPath, `${label}.tasks`, false, ctx.p)
  const usingDepends = tasks.some((t) => typeof rec(t)?.depends === 'string' && rec(t)?.depends !== '')
  const usingDependencies = tasks.some((t) => (arr(rec(t)?.dependencies)?.length ?? 0) > 0)
  if (usingDepends && usingDependencies) {
    ctx.p.add(dagPath, `${label} cannot use both 'depends' and 'dependencies' in the same DAG template`)
  }
  const deps = new Map<string, string[]>()
  const order: string[] = []
  tasks.forEach((raw, i) => {
    const task = rec(raw)
    const name = str(task?.name)
    if (!task || !name) return
    const at = join(tasksPath, i)
    const taskLabel = `${label}.tasks.${name}`
    if ((usingDepends || usingDependencies) && name.includes('.')) {
      ctx.p.add(join(at, 'name'), `${taskLabel} name cannot contain '.' when using dependencies or depends`)
    }
    stepCommon(task, at, taskLabel, ctx)
    const wanted: { dep: string; where: string }[] = []
    arr(task.dependencies)?.forEach((d, j) => {
      if (typeof d === 'string') wanted.push({ dep: d, where: join(join(at, 'dependencies'), j) })
    })
    const depends = str(task.depends)
    if (depends) for (const dep of dependsNames(depends)) wanted.push({ dep, where: join(at, 'depends') })
    const mine: string[] = []
    for (const { dep, where } of wanted) {
      if (names.has(dep)) mine.push(dep)
      else ctx.p.add(where, `${taskLabel} dependency '${dep}' not defined`)
    }
    if (!deps.has(name)) {
      deps.set(name, mine)
      order.push(name)
    }
  })
  const cycle = findCycle(order, deps)
  if (cycle) ctx.p.add(tasksPath, `${label}.tasks dependency cycle detected: ${cycle.join('->')}`)
}
