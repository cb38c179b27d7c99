import { HubEvent, type HubEntry } from './watch-hub.js'

/**
 * What a watch would have reported between two full lists (after a 410), in an order a client keyed by name can
 * follow: first DELETED for what is gone (by the last version seen), then ADDED and MODIFIED at each object's
 * version, oldest first. A name deleted and created again meanwhile thus ends with its new object, not with the
 * old one's deletion. Deletions carry the last state seen and no version (theirs is unknown): the hub places each
 * after the current position with an id of its own (Position in hub-event.ts, spec §3), so a client cut off among
 * them resumes exactly. A MODIFIED carries the version it replaced: clients whose selector it enters or leaves
 * get ADDED or DELETED.
 */
export function diffEntries<E extends HubEntry>(before: ReadonlyMap<string, E>, after: ReadonlyMap<string, E>): HubEvent<E>[] {
  const deleted: HubEvent<E>[] = []
  for (const [uid, e] of before) if (!after.has(uid)) deleted.push(new HubEvent('DELETED', e))
  deleted.sort((a, b) => a.entry.resourceVersion - b.entry.resourceVersion)
  const changed: HubEvent<E>[] = []
  for (const [uid, e] of after) {
    const old = before.get(uid)
    if (!old) changed.push(new HubEvent('ADDED', e, e.resourceVersion))
    else if (old.resourceVersion !== e.resourceVersion) changed.push(new HubEvent('MODIFIED', e, e.resourceVersion, old))
  }
  changed.sort((a, b) => a.rv - b.rv)
  return [...deleted, ...changed]
}
