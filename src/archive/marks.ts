import { GrpcCode, hasCode, isNotFound } from '../http/errors.js'
import type { KubeClient } from '../kube/client.js'
import { Workflows } from '../kube/resources.js'
import { ARCHIVING_STATUS, ARCHIVE_FINALIZER } from '../lib/workflow-labels.js'
import type { IndexEntry } from '../workflows/index.js'
import { finalizersOf, type Obj } from './record.js'

// The marks the archive leaves on live workflows: the archiving status label, and our finalizer while one waits.

/**
 * Patches the live workflow at version `rv`: its archiving status label and its finalizers (the whole list, which
 * the version guards against a concurrent change).
 * @returns the patched metadata, or undefined when the workflow changed or went meanwhile
 */
export async function markWorkflow(kube: KubeClient, namespace: string, name: string, rv: string, m: { status?: string; finalizers?: string[] | null }) {
  const metadata = {
    resourceVersion: rv,
    ...(m.status ? { labels: { [ARCHIVING_STATUS]: m.status } } : {}),
    ...(m.finalizers !== undefined ? { finalizers: m.finalizers } : {}),
  }
  try {
    return (await kube.patch(Workflows, namespace, name, { metadata })).metadata
  } catch (err) {
    // 409 (code 6, as kube/errors.ts maps a Conflict): a newer version exists and will come through the cache;
    // 404: deleted, the DELETED event archives it.
    if (hasCode(err, GrpcCode.AlreadyExists) || isNotFound(err)) return undefined
    throw err
  }
}

/**
 * Recorded on the live object before its row is written (as the controller does): a crash after this point is
 * visible, and a deletion waits for the row. A workflow already marked for deletion takes no new finalizer (the
 * apiserver refuses it). Undefined when a newer version exists or it is gone.
 */
export function markPending(kube: KubeClient, entry: IndexEntry, obj: Obj) {
  const finalizers = finalizersOf(obj.metadata)
  const hold = obj.metadata.deletionTimestamp === undefined && !finalizers.includes(ARCHIVE_FINALIZER)
  return markWorkflow(kube, entry.namespace, entry.name, String(entry.resourceVersion), { status: 'Pending', ...(hold ? { finalizers: [...finalizers, ARCHIVE_FINALIZER] } : {}) })
}
