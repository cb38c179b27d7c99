import { HubEvent, type HubEntry } from './watch-hub.js'

/**
 * What a watch would have reported between two full lists: ADDED and MODIFIED at each object's version, in order,
 * then DELETED at the list's version (the deletions' own versions are unknown).
 */
export function diffEntries<E extends HubEntry>(before: ReadonlyMap<string, E>, after: ReadonlyMap<string, E>, listRv: number): HubEvent<E>[] {
  const changed: HubEvent<E>[] = []
  for (const [uid, e] of after) {
    const old = before.get(uid)
    if (!old) changed.push(new HubEvent('ADDED', e, e.resourceVersion))
    else if (old.resourceVersion !== e.resourceVersion) changed.push(new HubEvent('MODIFIED', e, e.resourceVersion))
  }
  changed.sort((a, b) => a.rv - b.rv)
  for (const [uid, e] of before) if (!after.has(uid)) changed.push(new HubEvent('DELETED', e, listRv))
  return changed
}
