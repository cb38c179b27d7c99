import type { Requirement } from './label-selector.js'

/** Label tying a workflow to one controller/server instance (util/instanceid/service.go). */
export const LabelInstanceId = 'workflows.argoproj.io/controller-instanceid'

/** Every read filters on the instance ID, or on its absence when none is configured (spec §7.3). */
export function instanceIdRequirement(instanceId: string): Requirement {
  return instanceId
    ? { key: LabelInstanceId, operator: '=', values: [instanceId] }
    : { key: LabelInstanceId, operator: '!', values: [] }
}

export function withInstanceIdLabel(labels: Record<string, string>, instanceId: string): Record<string, string> {
  const out = { ...labels }
  if (instanceId) out[LabelInstanceId] = instanceId
  else delete out[LabelInstanceId]
  return out
}

export function isManagedBy(labels: Record<string, string> | undefined, instanceId: string): boolean {
  return (labels?.[LabelInstanceId] ?? '') === instanceId
}
