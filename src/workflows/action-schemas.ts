import { z } from 'zod'

// Request bodies of SubmitWorkflow and the actions, as upstream's swagger definitions (path fields win).
const named = { name: z.string().optional(), namespace: z.string().optional() }
const parameters = z.array(z.string()).optional()

export const SubmitOpts = z.object({
  annotations: z.string().optional(),
  artifacts: z.array(z.string()).optional(),
  dryRun: z.boolean().optional(),
  entryPoint: z.string().optional(),
  generateName: z.string().optional(),
  labels: z.string().optional(),
  name: z.string().optional(),
  ownerReference: z.looseObject({}).optional(),
  parameters,
  podPriorityClassName: z.string().optional(),
  priority: z.number().int().optional(),
  serverDryRun: z.boolean().optional(),
  serviceAccount: z.string().optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.SubmitOpts' })

export const WorkflowSubmitRequest = z.object({
  namespace: z.string().optional(),
  resourceKind: z.string().optional(),
  resourceName: z.string().optional(),
  submitOptions: SubmitOpts.optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowSubmitRequest' })

export const WorkflowRetryRequest = z.object({
  ...named, nodeFieldSelector: z.string().optional(), parameters, restartSuccessful: z.boolean().optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowRetryRequest' })

export const WorkflowResubmitRequest = z.object({ ...named, memoized: z.boolean().optional(), parameters })
  .meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowResubmitRequest' })

export const WorkflowResumeRequest = z.object({ ...named, nodeFieldSelector: z.string().optional() })
  .meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowResumeRequest' })

export const WorkflowSuspendRequest = z.object(named).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowSuspendRequest' })

export const WorkflowTerminateRequest = z.object(named).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowTerminateRequest' })

export const WorkflowStopRequest = z.object({ ...named, message: z.string().optional(), nodeFieldSelector: z.string().optional() })
  .meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowStopRequest' })

export const WorkflowSetRequest = z.object({
  ...named, message: z.string().optional(), nodeFieldSelector: z.string().optional(), outputParameters: z.string().optional(), phase: z.string().optional(),
}).meta({ id: 'io.argoproj.workflow.v1alpha1.WorkflowSetRequest' })
