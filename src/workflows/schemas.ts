import { z } from 'zod'
import { deleteOptionsQuery, getOptionsQuery, goBool, listOptionsQuery } from '../http/query.js'

const obj = z.record(z.string(), z.unknown())

export const Workflow = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.Workflow' })
export const WorkflowList = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowList' })
export const WorkflowDeleteResponse = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowDeleteResponse' })

export const CreateOptions = z.object({
  dryRun: z.array(z.string()).optional(),
  fieldManager: z.string().optional(),
  fieldValidation: z.string().optional(),
})

export const WorkflowCreateRequest = z.object({
  namespace: z.string().optional(),
  workflow: obj.optional(),
  instanceID: z.string().optional(),
  serverDryRun: z.boolean().optional(),
  createOptions: CreateOptions.optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowCreateRequest' })

export const WorkflowLintRequest = z.object({
  namespace: z.string().optional(),
  workflow: obj.optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowLintRequest' })

export const ListWorkflowsQuery = z.object({
  ...listOptionsQuery,
  fields: z.string().optional(),
  nameFilter: z.string().optional(),
  createdAfter: z.string().optional(),
  finishedBefore: z.string().optional(),
})

export const GetWorkflowQuery = z.object({
  ...getOptionsQuery,
  fields: z.string().optional(),
  uid: z.string().optional(),
})

export const DeleteWorkflowQuery = z.object({
  ...deleteOptionsQuery,
  force: goBool.optional(),
})
