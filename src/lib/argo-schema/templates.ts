// Per-template checks (upstream validateTemplate / validateTemplateType).
import { checkInputRefs, checkInputs } from './params.js'
import { checkDag, checkSteps, type Ctx } from './steps-dag.js'
import { present, type Rec } from './util.js'

// Order as in upstream's error message.
const TEMPLATE_TYPES = ['container', 'containerSet', 'steps', 'dag', 'script', 'resource', 'data', 'suspend', 'plugin', 'http']

export function checkTemplateType(tmpl: Rec, path: string, label: string, ctx: Ctx): void {
  const count = TEMPLATE_TYPES.filter((t) => present(tmpl[t])).length
  if (count === 0) {
    ctx.p.add(path, `${label} template type unspecified. choose one of: ${TEMPLATE_TYPES.join(', ')}`)
  } else if (count > 1) {
    ctx.p.add(path, `${label} has multiple template types specified`)
  }
}

/** Validates one template; `label` is upstream's name for it, e.g. 'templates.main'. */
export function checkTemplate(tmpl: Rec, path: string, label: string, ctx: Ctx): void {
  checkTemplateType(tmpl, path, label, ctx)
  const declared = checkInputs(tmpl, path, label, ctx.p)
  checkInputRefs(tmpl, path, label, declared, ctx.p)
  checkSteps(tmpl, path, label, ctx)
  checkDag(tmpl, path, label, ctx)
}
