import type { KubeClient } from '../kube/client.js'
import { ARCHIVING_STATUS, ARCHIVE_FINALIZER } from '../lib/workflow-labels.js'
import { phaseOf } from '../lib/workflow-phase.js'
import { hydrateNodes, type IndexEntry, type OffloadedNodeSource, type WorkflowStore } from '../workflows/index.js'
import type { ArchiveWriter } from './archive-repository.js'
import { markPending, markWorkflow } from './marks.js'
import { finalizersOf, finishedPhase, held, objectOf, released, toRecord } from './record.js'
import { fromDatabase } from './write-backoff.js'

/**
 * A version to write. `deleted`: its last state, which cannot be labelled any more. `again`: a change made after it
 * was archived (labelled Archived before and after), written as it is, with nothing written to Kubernetes but the
 * release of a hold; it only updates the row, unless `finishing`: it finished with that label on (a manifest copied
 * from a live archived workflow), so its row may not exist yet.
 */
export interface Item { entry: IndexEntry; deleted: boolean; again?: boolean; finishing?: boolean }

/** What writing an item takes from the Archiver. */
export interface WriteContext {
  store: WorkflowStore
  writer: ArchiveWriter
  kube: KubeClient
  instanceId: string
  offloaded?: OffloadedNodeSource
  log: (msg: string) => void
  /** Archiver.#eligible: finished and to be archived (`archived`: already labelled Archived) */
  eligible: (e: IndexEntry, archived?: boolean) => boolean
  /** RunningHold.wants: an unfinished workflow held for the archive, not to be let go here */
  holdWanted: (e: IndexEntry) => boolean
  /** uid → the version this replica last wrote; the echoes of its own label patches are not archived again */
  written: Map<string, number>
  /** counts a row written */
  wrote: () => void
}

/**
 * Writes one queued version: labels it Pending (with our finalizer) unless it is written as it is, upserts its row,
 * then labels it Archived (without the finalizer) and records the labelled version in the row.
 * @returns whether the row was written (false: nothing to write, or a newer version will come through the watch)
 */
export async function writeItem(c: WriteContext, item: Item): Promise<boolean> {
  let { entry } = item
  // Written as it is: no newer version looked for, no label or finalizer patched.
  const asIs = item.deleted || item.again === true
  const live = c.store.get(entry.uid)
  if (!asIs && live) {
    if (live.resourceVersion > entry.resourceVersion) {
      if (!c.eligible(live) && !held(live, c.instanceId)) return false // e.g. already labelled Archived
      entry = live
    }
  }
  const done = c.written.get(entry.uid)
  if (!asIs && done !== undefined && done >= entry.resourceVersion) return false
  const obj = objectOf(entry)
  const phase = phaseOf(obj)
  const { namespace, name } = entry
  if (!finishedPhase(obj) || (!asIs && !c.eligible(entry))) {
    // Not what RunningHold holds (unfinished, to be archived): that stays until it finishes or is deleted.
    if (!asIs && held(entry, c.instanceId) && !c.holdWanted(entry)) await markWorkflow(c.kube, namespace, name, String(entry.resourceVersion), { finalizers: released(finalizersOf(obj.metadata)) })
    return false
  }
  let rv = String(entry.resourceVersion)
  let finalizers = finalizersOf(obj.metadata)
  // Held before anything is read from the database (offloaded nodes): a workflow that fails there is held already.
  if (!asIs && !entry.labels[ARCHIVING_STATUS]) {
    const patched = await markPending(c.kube, entry, obj)
    if (!patched) return false
    rv = patched.resourceVersion ?? rv
    finalizers = patched.finalizers ?? []
  }
  if (obj.status && c.offloaded) {
    const lost = await fromDatabase(hydrateNodes(obj.status, entry.uid, c.offloaded))
    if (lost) c.log(`archive: workflow ${namespace}/${name} (${entry.uid}): ${lost}`)
  }
  // A change after archiving updates the row; one deleted from the archive (or expired) stays deleted.
  const written = await fromDatabase(c.writer.upsert(toRecord(obj, entry, phase, rv), item.again === true && item.finishing !== true))
  if (written) c.wrote()
  const release = finalizers.includes(ARCHIVE_FINALIZER) ? { finalizers: released(finalizers) } : {}
  // Run again and held while it ran (RunningHold), it is let go once written again; nothing else is patched.
  if (item.again && !item.deleted && release.finalizers !== undefined) await markWorkflow(c.kube, namespace, name, rv, release)
  if (asIs) return true
  const labelled = await markWorkflow(c.kube, namespace, name, rv, { status: 'Archived', ...release })
  // Only once labelled: a failed label patch must be retried, not skipped as already done.
  c.written.set(entry.uid, Number(rv))
  // The row is current with the labelled version, so a later change is told from it (RowVersions). Should this
  // fail, the next scan writes the row again, which is harmless.
  if (labelled?.resourceVersion) {
    await c.writer.current(entry.uid, labelled.resourceVersion)
      .catch((err: unknown) => c.log(`archive: cannot record the version of workflow ${namespace}/${name} (${entry.uid}): ${(err as Error).message}`))
  }
  return true
}
