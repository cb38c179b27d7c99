// Validation ("lint") of Argo objects: JSON-schema problems from the vendored
// upstream schema plus semantic checks modelled on upstream workflow/validate/validate.go.
import { checkCronSpec } from './cron.js'
import { checkMetadata } from './names.js'
import { schemaProblems } from './schema.js'
import { checkSpec } from './spec.js'
import type { Resolver } from './steps-dag.js'
import { Problems, rec, type ArgoKind, type Problem } from './util.js'

export type { ArgoKind, Problem } from './util.js'
export type { Resolver } from './steps-dag.js'
export { schemaProblems } from './schema.js'
export { cronScheduleError } from './cron.js'

export interface LintOptions {
  /** Lint mode (upstream ValidateOpts.Lint): unresolvable templateRef / workflowTemplateRef are not errors. */
  lint?: boolean
  /**
   * Finds a WorkflowTemplate (clusterScope false) or ClusterWorkflowTemplate by name;
   * returns the object (or just its spec), or undefined when it does not exist.
   * Without it, template references are not checked.
   */
  resolveTemplate?: Resolver
}

export function lintProblems(kind: ArgoKind, obj: unknown, opts: LintOptions = {}): Problem[] {
  const p = new Problems()
  for (const s of schemaProblems(kind, obj)) p.add(s.path, s.message)
  const spec = rec(rec(obj)?.spec)
  checkMetadata(kind, obj, p)
  if (!spec) return p.list
  const lint = opts.lint === true
  const resolve = opts.resolveTemplate
  if (kind === 'CronWorkflow') {
    checkCronSpec(spec, p)
    const wfSpec = rec(spec.workflowSpec)
    if (wfSpec) checkSpec(wfSpec, 'spec.workflowSpec', { requireEntrypoint: true, lint, resolve }, p)
  } else {
    checkSpec(spec, 'spec', { requireEntrypoint: kind === 'Workflow', lint, resolve }, p)
  }
  return p.list
}

/** One line for a 400 response: `<path>: <message>` for each problem, joined by '; '. */
export function formatProblems(problems: Problem[]): string {
  return problems.map((q) => (q.path === '' ? q.message : `${q.path}: ${q.message}`)).join('; ')
}
