/** The resources the emulator serves, and the discovery documents describing them. */

export interface ResourceDef {
  group: string
  version: string
  resource: string // plural
  singular: string
  kind: string
  namespaced: boolean
  shortNames?: string[]
  verbs: string[]
  subresources: string[]
  /** create-only virtual resources (reviews) are not stored */
  virtual?: boolean
  /** PUT without metadata.resourceVersion allowed (true for most built-ins, false for CRDs) */
  unconditionalUpdate: boolean
  /** DELETE answers with the deleted object rather than a Status */
  returnDeletedObject: boolean
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

function def(group: string, version: string, resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceDef> = {}): ResourceDef {
  return {
    group, version, resource, kind, namespaced,
    singular: kind.toLowerCase(),
    verbs: ALL_VERBS,
    subresources: [],
    unconditionalUpdate: group !== 'argoproj.io',
    returnDeletedObject: group !== 'argoproj.io',
    ...extra,
  }
}

const ARGO = 'argoproj.io'
const V1A1 = 'v1alpha1'

export const RESOURCES: ResourceDef[] = [
  def('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: ['status'] }),
  def('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], subresources: ['log', 'status'] }),
  def('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  def('', 'v1', 'secrets', 'Secret', true),
  def('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  def('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  def(ARGO, V1A1, 'workflows', 'Workflow', true, { shortNames: ['wf'], subresources: ['status'] }),
  def(ARGO, V1A1, 'workflowtemplates', 'WorkflowTemplate', true, { shortNames: ['wftmpl'], subresources: ['status'] }),
  def(ARGO, V1A1, 'cronworkflows', 'CronWorkflow', true, { shortNames: ['cwf', 'cronwf'], subresources: ['status'] }),
  def(ARGO, V1A1, 'clusterworkflowtemplates', 'ClusterWorkflowTemplate', false, { shortNames: ['clusterwftmpl', 'cwftmpl'], subresources: ['status'] }),
  def(ARGO, V1A1, 'workfloweventbindings', 'WorkflowEventBinding', true, { shortNames: ['wfeb'], subresources: ['status'] }),
  def(ARGO, V1A1, 'workflowtaskresults', 'WorkflowTaskResult', true, { subresources: ['status'] }),
  def('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  def('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  def('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  def('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  def('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  def('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'], virtual: true }),
  def('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, { verbs: ['create'], virtual: true }),
]

const byKey = new Map<string, ResourceDef>()
const byGV = new Map<string, ResourceDef[]>()
for (const r of RESOURCES) {
  byKey.set(resourceKey(r.group, r.resource), r)
  const gv = gvString(r.group, r.version)
  byGV.set(gv, [...(byGV.get(gv) ?? []), r])
}

export function resourceKey(group: string, resource: string): string {
  return `${group}/${resource}`
}

export function gvString(group: string, version: string): string {
  return group ? `${group}/${version}` : version
}

export function findResource(group: string, resource: string): ResourceDef | undefined {
  return byKey.get(resourceKey(group, resource))
}

export function findResourceInGV(group: string, version: string, resource: string): ResourceDef | undefined {
  const r = byKey.get(resourceKey(group, resource))
  return r && r.version === version ? r : undefined
}

export function apiVersionOf(r: ResourceDef): string {
  return gvString(r.group, r.version)
}

export function hasGroupVersion(group: string, version: string): boolean {
  return byGV.has(gvString(group, version))
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] }
}

export function apiGroupList(): unknown {
  const groups = new Map<string, string>()
  for (const r of RESOURCES) if (r.group) groups.set(r.group, r.version)
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, version]) => {
      const gv = { groupVersion: `${name}/${version}`, version }
      return { name, versions: [gv], preferredVersion: gv }
    }),
  }
}

export function apiGroup(group: string): unknown | undefined {
  const r = RESOURCES.find((x) => x.group === group && group !== '')
  if (!r) return undefined
  const gv = { groupVersion: `${group}/${r.version}`, version: r.version }
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [gv], preferredVersion: gv }
}

export function apiResourceList(group: string, version: string): unknown | undefined {
  const defs = byGV.get(gvString(group, version))
  if (!defs) return undefined
  const resources: unknown[] = []
  for (const r of defs) {
    const entry: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs }
    if (r.shortNames) entry.shortNames = r.shortNames
    if (r.group === ARGO) entry.categories = ['all', 'argo']
    resources.push(entry)
    for (const sub of r.subresources) {
      const verbs = sub === 'log' ? ['get'] : ['get', 'patch', 'update']
      resources.push({ name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs })
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gvString(group, version), resources }
}

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-emulator',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
}
