// Name rules: object metadata (k8s apimachinery validation) and workflow field
// names (templates, steps, tasks, parameters) as in upstream workflow/validate/validate.go.
import { arr, join, rec, str, type ArgoKind, type Problems } from './util.js'

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
const DNS1123_SUBDOMAIN_MAX = 253

// validate.go: maxCharsInObjectName (a workflow name becomes a label value) and
// the cron limit, which leaves room for the 11-character scheduled-time suffix.
const MAX_WORKFLOW_NAME = 63
const MAX_CRON_WORKFLOW_NAME = 52

const WORKFLOW_FIELD_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/
const WORKFLOW_FIELD_NAME_MSG =
  "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character (e.g. 'my-name', or 'abc-123', regex used for validation is '[a-zA-Z0-9][-a-zA-Z0-9]*')"
const WORKFLOW_FIELD_MAX = 128

const PARAM_NAME = /^[-a-zA-Z0-9_]+$/
const PARAM_NAME_MSG = "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1"

function subdomainErrors(value: string): string[] {
  const errs: string[] = []
  if (value.length > DNS1123_SUBDOMAIN_MAX) errs.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`)
  if (!DNS1123_SUBDOMAIN.test(value)) errs.push(DNS1123_SUBDOMAIN_MSG)
  return errs
}

/** upstream isValidWorkflowFieldName: errors for a template, step or task name. */
export function workflowFieldNameErrors(name: string): string[] {
  const errs: string[] = []
  if (name.length > WORKFLOW_FIELD_MAX) errs.push(`must be no more than ${WORKFLOW_FIELD_MAX} characters`)
  if (!WORKFLOW_FIELD_NAME.test(name)) errs.push(WORKFLOW_FIELD_NAME_MSG)
  return errs
}

export function paramNameErrors(name: string): string[] {
  return PARAM_NAME.test(name) ? [] : [PARAM_NAME_MSG]
}

export function checkMetadata(kind: ArgoKind, obj: unknown, p: Problems): void {
  const meta = rec(rec(obj)?.metadata)
  if (!meta) return
  const name = str(meta.name)
  if (name) {
    for (const e of subdomainErrors(name)) p.add('metadata.name', `Invalid value: ${JSON.stringify(name)}: ${e}`)
    if (kind === 'Workflow' && name.length > MAX_WORKFLOW_NAME) {
      p.add('metadata.name', `workflow name ${JSON.stringify(name)} must not be more than ${MAX_WORKFLOW_NAME} characters long (currently ${name.length})`)
    }
    if (kind === 'CronWorkflow' && name.length > MAX_CRON_WORKFLOW_NAME) {
      p.add('metadata.name', `cron workflow name ${JSON.stringify(name)} must not be more than ${MAX_CRON_WORKFLOW_NAME} characters long (currently ${name.length})`)
    }
  }
  const generateName = str(meta.generateName)
  if (generateName) {
    // k8s validates a generateName prefix with its trailing dash masked (maskTrailingDash).
    const masked = generateName.length > 1 && generateName.endsWith('-') ? generateName.slice(0, -1) + 'a' : generateName
    for (const e of subdomainErrors(masked)) p.add('metadata.generateName', `Invalid value: ${JSON.stringify(generateName)}: ${e}`)
  }
}

/**
 * upstream validateWorkflowFieldNames: every item of a named list needs a valid,
 * unique name. Returns the names seen. `label` prefixes messages whose JSON path
 * differs from upstream's wording (e.g. 'templates.main.tasks').
 */
export function checkNamedList(
  list: unknown,
  path: string,
  label: string | undefined,
  isParamOrArtifact: boolean,
  p: Problems,
): Set<string> {
  const names = new Set<string>()
  const items = arr(list)
  if (!items) return names
  items.forEach((item, i) => {
    const r = rec(item)
    if (!r) return
    const namePath = join(join(path, i), 'name')
    const prefix = label === undefined ? '' : `${label}[${i}].name `
    if (r.name === undefined || r.name === '') {
      p.add(namePath, `${prefix}is required`)
      return
    }
    const name = str(r.name)
    if (name === undefined) return
    const errs = isParamOrArtifact ? paramNameErrors(name) : workflowFieldNameErrors(name)
    if (errs.length > 0) p.add(namePath, `${prefix}'${name}' is invalid: ${errs.join(';')}`)
    if (names.has(name)) p.add(namePath, `${prefix}'${name}' is not unique`)
    names.add(name)
  })
  return names
}
