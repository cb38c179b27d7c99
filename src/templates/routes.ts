import type { FastifyInstance } from 'fastify'
import { crudRoutes } from './crud-routes.js'
import { ClusterWorkflowTemplateSchemas, ListQuery, ListWorkflowTemplatesQuery, WorkflowTemplateSchemas } from './schemas.js'
import type { TemplateServices } from './service.js'

/** WorkflowTemplateService and ClusterWorkflowTemplateService (spec §1, §2.10). */
export function templateRoutes(app: FastifyInstance, deps: TemplateServices): void {
  crudRoutes(app, {
    service: deps.workflowTemplates,
    base: '/api/v1/workflow-templates',
    schemas: { ...WorkflowTemplateSchemas, listQuery: ListWorkflowTemplatesQuery },
  })
  crudRoutes(app, {
    service: deps.clusterWorkflowTemplates,
    base: '/api/v1/cluster-workflow-templates',
    schemas: { ...ClusterWorkflowTemplateSchemas, listQuery: ListQuery },
  })
}
