import { ClusterWorkflowTemplates, WorkflowTemplates, type ArgoResource } from '../kube/resources.js'
import { ArgoObjects } from './objects.js'

/**
 * WorkflowTemplateService and ClusterWorkflowTemplateService (spec §1, §2.10). Template references are not
 * resolved: upstream's template validation tolerates unresolved ones (`workflowTemplateValidation`), so a template
 * may be created before those it calls.
 */
function templates(res: ArgoResource, kind: 'WorkflowTemplate' | 'ClusterWorkflowTemplate', missing: string, instanceId: string): ArgoObjects {
  return new ArgoObjects({
    res, kind, hasStatus: false, field: 'template', sortByName: true, checkExistingOnUpdate: false,
    missing: { create: `${missing} was not found in the request body`, update: `${kind} is not found in Request body` },
  }, instanceId)
}

export interface TemplateServices { workflowTemplates: ArgoObjects; clusterWorkflowTemplates: ArgoObjects }

export function templateServices(instanceId: string): TemplateServices {
  return {
    workflowTemplates: templates(WorkflowTemplates, 'WorkflowTemplate', 'workflow template', instanceId),
    clusterWorkflowTemplates: templates(ClusterWorkflowTemplates, 'ClusterWorkflowTemplate', 'cluster workflow template', instanceId),
  }
}
