// Workflow-spec level checks (upstream ValidateWorkflow / ValidateWorkflowTemplate).
import { checkNamedList } from './names.js'
import { checkArguments } from './params.js'
import { checkSpecHooks, templatesOf, type Ctx, type Resolver } from './steps-dag.js'
import { checkTemplate } from './templates.js'
import { arr, join, rec, str, type Problems, type Rec } from './util.js'

export interface SpecOptions {
  /** A Workflow (or a CronWorkflow's workflowSpec): entrypoint required unless workflowTemplateRef. */
  requireEntrypoint: boolean
  lint: boolean
  resolve?: Resolver
}

function byName(templates: unknown[] | undefined): Map<string, Rec> {
  const map = new Map<string, Rec>()
  for (const t of templates ?? []) {
    const r = rec(t)
    const name = str(r?.name)
    if (r && name && !map.has(name)) map.set(name, r)
  }
  return map
}

/** The templates a workflowTemplateRef brings in, or undefined when unknown (no resolver / not found). */
function referencedTemplates(ref: Rec, path: string, opts: SpecOptions, p: Problems): Map<string, Rec> | undefined {
  const name = str(ref.name)
  if (!name || !opts.resolve) return undefined
  const clusterScope = ref.clusterScope === true
  const resolved = opts.resolve({ name, clusterScope })
  if (resolved === undefined) {
    if (!opts.lint) {
      const resource = clusterScope ? 'clusterworkflowtemplates' : 'workflowtemplates'
      p.add(join(path, 'name'), `${resource}.argoproj.io ${JSON.stringify(name)} not found`)
    }
    return undefined
  }
  const templates = templatesOf(resolved)
  return templates ? byName(templates) : undefined
}

/** `prefix` is where the spec sits: 'spec', or 'spec.workflowSpec' for a CronWorkflow. */
export function checkSpec(spec: Rec, prefix: string, opts: SpecOptions, p: Problems): void {
  const templatesPath = join(prefix, 'templates')
  const templates = arr(spec.templates)
  const wrongShape = spec.templates !== undefined && spec.templates !== null && !templates
  const ref = rec(spec.workflowTemplateRef)

  let callable: Map<string, Rec> | undefined = byName(templates)
  if (ref) {
    if (templates && templates.length > 0) {
      p.add(templatesPath, 'Templates is invalid field in spec if workflow referred WorkflowTemplate reference')
    }
    callable = referencedTemplates(ref, join(prefix, 'workflowTemplateRef'), opts, p)
  } else if (!wrongShape && (!templates || templates.length === 0)) {
    p.add(templatesPath, 'is required')
  }

  if (templates) {
    checkNamedList(templates, templatesPath, undefined, false, p)
    const ctx: Ctx = {
      p,
      lint: opts.lint,
      resolve: opts.resolve,
      local: byName(templates),
      template: (t, path, label) => checkTemplate(t, path, label, ctx),
    }
    templates.forEach((t, i) => {
      const r = rec(t)
      if (r) checkTemplate(r, join(templatesPath, i), `templates.${str(r.name) ?? i}`, ctx)
    })
    checkSpecHooks(spec.hooks, join(prefix, 'hooks'), ctx)
  }

  const entrypoint = spec.entrypoint
  if (entrypoint === undefined || entrypoint === '') {
    if (opts.requireEntrypoint && !ref) p.add(join(prefix, 'entrypoint'), 'is required')
  } else if (typeof entrypoint === 'string' && callable && !wrongShape && !callable.has(entrypoint)) {
    p.add(join(prefix, 'entrypoint'), `template '${entrypoint}' undefined`)
  }
  const onExit = str(spec.onExit)
  if (onExit && callable && !wrongShape && !callable.has(onExit)) {
    p.add(join(prefix, 'onExit'), `template '${onExit}' undefined`)
  }

  checkArguments(spec.arguments, join(prefix, 'arguments'), p)
}
