import { isManagedBy } from '../lib/instance-id.js'
import { ARCHIVING_STATUS, ARCHIVE_FINALIZER } from '../lib/workflow-labels.js'
import { COMPLETED_PHASES, phaseOf } from '../lib/workflow-phase.js'
import type { IndexEntry } from '../workflows/index.js'
import type { ArchiveRecord } from './types.js'

// How a finished workflow becomes an archive row, and the finalizer that holds it in Kubernetes until then.

/** Finished for the archive: by its finishedAt, or by the controller's completed label (cheap: no JSON read). */
export const finishedEntry = (e: IndexEntry): boolean => e.group === 1 || e.labels['workflows.argoproj.io/completed'] === 'true'
/** Its phase is a finished one (what is archived; read from the object). */
export const finishedPhase = (obj: Obj): boolean => COMPLETED_PHASES.has(phaseOf(obj))
/**
 * Pending with our finalizer, and this instance's (instanceID: another instance's server archives, holds and lets go
 * of its own).
 */
export const held = (e: IndexEntry, instanceId: string): boolean =>
  e.labels[ARCHIVING_STATUS] === 'Pending' && e.archiveHold && isManagedBy(e.labels, instanceId)
/** Our finalizer on a workflow of this instance, whatever its label (RunningHold's unfinished ones have none). */
export const holding = (e: IndexEntry, instanceId: string): boolean => e.archiveHold && isManagedBy(e.labels, instanceId)
export type Obj = { metadata: Record<string, unknown>; status?: Record<string, unknown> }
/** The cached workflow's object (its metadata and status are what the archive reads). */
export const objectOf = (e: IndexEntry): Obj => JSON.parse(e.json.toString('utf8')) as Obj
export const finalizersOf = (m: Record<string, unknown>): string[] => Array.isArray(m.finalizers) ? m.finalizers.filter((f): f is string => typeof f === 'string') : []
/** The finalizers without ours, as a merge patch writes them: null removes the list. */
export const released = (finalizers: string[]): string[] | null => {
  const rest = finalizers.filter((f) => f !== ARCHIVE_FINALIZER)
  return rest.length ? rest : null
}

/** The row for a finished workflow as the live object `obj` (cached as `e`) holds it, labelled Persisted at version `rv`. */
export function toRecord(obj: Obj, e: IndexEntry, phase: string, rv: string): ArchiveRecord {
  const labels = { ...e.labels, [ARCHIVING_STATUS]: 'Persisted' }
  // The archived copy does not carry our finalizer: a workflow re-created from it must not wait for the archive.
  const { finalizers: _f, ...meta } = obj.metadata
  const finalizers = released(finalizersOf(obj.metadata))
  const status = obj.status ?? {}
  // Without status.finishedAt (upstream writes Go's zero time, which the TTL would delete at once): when it was archived
  const finishedAt = new Date(e.finished || Date.now()).toISOString()
  const startedAt = typeof status.startedAt === 'string' && status.startedAt ? status.startedAt : finishedAt
  const creationTimestamp = typeof obj.metadata.creationTimestamp === 'string' ? obj.metadata.creationTimestamp : null
  const json = JSON.stringify({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', ...obj, metadata: { ...meta, ...(finalizers ? { finalizers } : {}), resourceVersion: rv, labels } })
  return { uid: e.uid, name: e.name, namespace: e.namespace, phase, startedAt, finishedAt, creationTimestamp, resourceVersion: rv, labels, json }
}
