import { toWireJson } from '../http/wire.js'
import { diffEntries } from '../kube/diff.js'
import type { KubeObject } from '../kube/resources.js'
import { asSeenBy, type HubEvent } from '../kube/watch-hub.js'
import { toEntry, type IndexEntry } from './workflow-index.js'
import type { WorkflowStore } from './workflow-store.js'

/**
 * How a workflow listed at a past resourceVersion is kept until it is diffed with the current state (see
 * PastStates): with its body if it is gone since (its DELETED carries it), else only its metadata, so reading a
 * scope's past holds little more than its names and labels. (A workflow that left a client's selector since is
 * so reported DELETED with that metadata only.)
 */
export function pastEntryOf(store: WorkflowStore): (obj: KubeObject) => IndexEntry | undefined {
  return (obj) => {
    const md = obj.metadata
    const current = md?.uid ? store.get(md.uid) : undefined
    // Still there: not serialized (a whole scope's past is read at once), only what a diff and a DELETED need.
    if (!current || !md) return toEntry(obj)
    const { name, namespace, uid } = current
    const labels = md.labels ?? {}
    const resourceVersion = Number(md.resourceVersion ?? 0) || 0
    const json = Buffer.from(toWireJson({ metadata: { name, namespace, uid, resourceVersion: String(resourceVersion), labels } }))
    return { ...current, labels, resourceVersion, dehydrated: false, json }
  }
}

/**
 * What a client that had everything up to a past version is told to bring it up to date, as the 410 re-list tells
 * every client (diff.ts): ADDED, MODIFIED and DELETED (for what is gone) in version order, each as its selectors
 * see it; nothing for what is unchanged.
 */
export function changesSince(past: ReadonlyMap<string, IndexEntry>, current: readonly IndexEntry[], matches: (e: IndexEntry) => boolean, rv: number): HubEvent<IndexEntry>[] {
  const now = new Map(current.map((e) => [e.uid, e]))
  const sub = { matches }
  const out: HubEvent<IndexEntry>[] = []
  // `rv`, the store's version (the cluster's): a deletion's place is at most that, at least the client's version.
  for (const ev of diffEntries(past, now, rv)) {
    const seen = asSeenBy(sub, ev, ev.type === 'MODIFIED' ? past.get(ev.entry.uid) : undefined)
    if (seen) out.push(seen)
  }
  return out
}
