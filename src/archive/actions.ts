import type { Identity } from '../auth/index.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import { applyCreatorLabels } from '../lib/creator-labels.js'
import { withInstanceIdLabel } from '../lib/instance-id.js'
import { toApiObject } from '../workflows/index.js'

/** Creates the formulated workflow as the caller, stamped like any create (instance ID, creator labels). */
export async function createAs(identity: Identity, instanceId: string, wf: KubeObject, namespace: string): Promise<ReturnType<typeof toApiObject>> {
  let labels = withInstanceIdLabel({ ...wf.metadata.labels }, instanceId)
  labels = applyCreatorLabels(labels, identity.claims)
  const created = await identity.kube.create(Workflows, namespace, { ...wf, metadata: { ...wf.metadata, namespace, labels } })
  return toApiObject(created)
}
