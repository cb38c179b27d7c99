import type { Identity } from '../auth/index.js'
import { CronWorkflows } from '../kube/resources.js'
import { ArgoObjects, templateResolver, type WireObject } from '../templates/index.js'

/**
 * CronWorkflowService (spec §1). Unlike templates, a cron workflow's template references must resolve, with the
 * caller's client, on create, update and lint (upstream ValidateCronWorkflow).
 * Deviation: a missing `cronWorkflow` is 400 (upstream: 404 on create, a panic on update).
 */
export class CronWorkflowService extends ArgoObjects {
  constructor(instanceId: string) {
    super({
      res: CronWorkflows,
      kind: 'CronWorkflow',
      hasStatus: true,
      field: 'cronWorkflow',
      sortByName: false,
      checkExistingOnUpdate: true,
      missing: { create: 'cron workflow was not found in the request body', update: 'cron workflow was not found in the request body' },
      resolver: templateResolver,
    }, instanceId)
  }

  /**
   * Suspend and resume merge-patch `spec.suspend` (spec §1). Deviation: the instance ID is checked first, as for
   * every other call here (upstream patches any cron workflow the caller may patch).
   */
  setSuspend(identity: Identity, namespace: string, name: string, suspend: boolean): Promise<WireObject> {
    return this.patch(identity, namespace, name, { spec: { suspend } })
  }
}
