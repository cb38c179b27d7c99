import { z } from 'zod'
import { deleteOptionsQuery, getOptionsQuery, listOptionsQuery } from '../http/query.js'
import { CreateOptions } from '../workflows/index.js'

// The object itself is validated against the Argo schema by the service, which names every bad field (spec §4).
const obj = z.record(z.string(), z.unknown())

const id = (name: string) => ({ id: `io.argoproj.workflow.v1alpha1.${name}` })

/** The messages of WorkflowTemplateService or ClusterWorkflowTemplateService (swagger definitions, by name). */
function templateSchemas(kind: 'WorkflowTemplate' | 'ClusterWorkflowTemplate', namespaced: boolean) {
  const namespace = namespaced ? { namespace: z.string().optional() } : {}
  const create = { ...namespace, template: obj.optional(), createOptions: CreateOptions.optional() }
  return {
    object: z.looseObject({}).meta(id(kind)),
    list: z.looseObject({}).meta(id(`${kind}List`)),
    deleted: z.looseObject({}).meta(id(`${kind}DeleteResponse`)),
    create: z.object(create).meta(id(`${kind}CreateRequest`)),
    lint: z.object(create).meta(id(`${kind}LintRequest`)),
    update: z.object({ name: z.string().optional(), ...namespace, template: obj.optional() }).meta(id(`${kind}UpdateRequest`)),
  }
}

// Built once: a schema id may be registered only once.
export const WorkflowTemplateSchemas = templateSchemas('WorkflowTemplate', true)
export const ClusterWorkflowTemplateSchemas = templateSchemas('ClusterWorkflowTemplate', false)

export const ListQuery = z.object(listOptionsQuery)
export const ListWorkflowTemplatesQuery = z.object({ ...listOptionsQuery, namePattern: z.string().optional() })
export const GetQuery = z.object(getOptionsQuery)
export const DeleteQuery = z.object(deleteOptionsQuery)
export const NameParams = z.object({ name: z.string() })

/** The `listOptions.*` the services pass on (the watch-related ones are accepted and ignored, as upstream's unary lists). */
export function listQueryOf(q: z.infer<typeof ListQuery> & { namePattern?: string }) {
  return {
    labelSelector: q['listOptions.labelSelector'],
    fieldSelector: q['listOptions.fieldSelector'],
    resourceVersion: q['listOptions.resourceVersion'],
    limit: q['listOptions.limit'],
    continue: q['listOptions.continue'],
    namePattern: q.namePattern,
  }
}

/** `createOptions.dryRun` non-empty (e.g. `["All"]`) asks for a dry run. */
export const isDryRun = (o: { dryRun?: string[] } | undefined): boolean => (o?.dryRun?.length ?? 0) > 0
