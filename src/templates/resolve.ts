import type { Identity } from '../auth/index.js'
import { isNotFound } from '../http/errors.js'
import { ClusterWorkflowTemplates, WorkflowTemplates, type KubeObject } from '../kube/resources.js'
import type { Resolver } from '../lib/argo-schema/index.js'

type Ref = { name: string; clusterScope: boolean }

/** Every `templateRef` and `workflowTemplateRef` in an object, however deeply nested (steps, DAG tasks, hooks). */
function referencesOf(node: unknown, out: Map<string, Ref>): Map<string, Ref> {
  if (Array.isArray(node)) {
    for (const v of node) referencesOf(v, out)
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, v] of Object.entries(node as Record<string, unknown>)) {
      const ref = v as { name?: unknown; clusterScope?: unknown } | null
      if ((key === 'templateRef' || key === 'workflowTemplateRef') && typeof ref?.name === 'string' && ref.name) {
        const r = { name: ref.name, clusterScope: ref.clusterScope === true }
        out.set(`${r.clusterScope}/${r.name}`, r)
      } else referencesOf(v, out)
    }
  }
  return out
}

/**
 * The synchronous resolver the validator wants, filled beforehand by reading every referenced template with the
 * caller's client (upstream's template getters): one it may not read fails the request, a missing one is undefined.
 */
export async function templateResolver(identity: Identity, namespace: string, obj: KubeObject): Promise<Resolver> {
  const found = new Map<string, KubeObject>()
  await Promise.all([...referencesOf(obj.spec, new Map()).entries()].map(async ([key, ref]) => {
    try {
      found.set(key, await identity.kube.get(ref.clusterScope ? ClusterWorkflowTemplates : WorkflowTemplates, namespace, ref.name))
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }))
  return (ref) => found.get(`${ref.clusterScope}/${ref.name}`)
}
