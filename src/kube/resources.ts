/** The Argo resources the server proxies, addressed as the Kubernetes API does. */
export interface ArgoResource {
  readonly group: 'argoproj.io'
  readonly version: 'v1alpha1'
  readonly plural: string
  readonly kind: string
  readonly namespaced: boolean
}

const argo = (plural: string, kind: string, namespaced = true): ArgoResource =>
  Object.freeze({ group: 'argoproj.io', version: 'v1alpha1', plural, kind, namespaced })

export const Workflows = argo('workflows', 'Workflow')
export const WorkflowTemplates = argo('workflowtemplates', 'WorkflowTemplate')
export const ClusterWorkflowTemplates = argo('clusterworkflowtemplates', 'ClusterWorkflowTemplate', false)
export const CronWorkflows = argo('cronworkflows', 'CronWorkflow')

/** A Kubernetes object as the server handles it: plain JSON. */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  [key: string]: unknown
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string | null
  labels?: Record<string, string>
  annotations?: Record<string, string>
  finalizers?: string[]
  managedFields?: unknown
  [key: string]: unknown
}

export interface KubeList {
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number }
  items: KubeObject[]
}

export interface ListParams {
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continue?: string
  resourceVersion?: string
  /** with resourceVersion: Exact lists the objects as they were at that version (410 Gone once etcd compacted it) */
  resourceVersionMatch?: 'Exact' | 'NotOlderThan'
}

export interface AccessAttributes {
  verb: string
  group: string
  resource: string
  namespace: string
  name?: string
  subresource?: string
}

/** A pod as the log streamer sees it. */
export interface PodSummary {
  name: string
  uid: string
  phase: string
}
