import { z } from 'zod'
import { CreateOptions } from '../workflows/index.js'

const obj = z.record(z.string(), z.unknown())

export const CronWorkflow = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.CronWorkflow' })
export const CronWorkflowList = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.CronWorkflowList' })
export const CronWorkflowDeletedResponse = z.looseObject({}).meta({ id: 'io.argoproj.workflow.v1alpha1.CronWorkflowDeletedResponse' })

export const CreateCronWorkflowRequest = z.object({
  namespace: z.string().optional(), cronWorkflow: obj.optional(), createOptions: CreateOptions.optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.CreateCronWorkflowRequest' })
export const LintCronWorkflowRequest = z.object({
  namespace: z.string().optional(), cronWorkflow: obj.optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.LintCronWorkflowRequest' })
export const UpdateCronWorkflowRequest = z.object({
  name: z.string().optional(), namespace: z.string().optional(), cronWorkflow: obj.optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.UpdateCronWorkflowRequest' })
// The UI PUTs /suspend with no body at all (spec §2.1); path values win over these.
export const CronWorkflowSuspendRequest = z.object({ name: z.string().optional(), namespace: z.string().optional() })
  .meta({ id: 'io.argoproj.workflow.v1alpha1.CronWorkflowSuspendRequest' })
export const CronWorkflowResumeRequest = z.object({ name: z.string().optional(), namespace: z.string().optional() })
  .meta({ id: 'io.argoproj.workflow.v1alpha1.CronWorkflowResumeRequest' })
