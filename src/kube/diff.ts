import { HubEvent, type HubEntry } from './watch-hub.js'

/**
 * What a watch would have reported between two full lists (after a 410), in version order: ADDED and MODIFIED at
 * each object's version, DELETED for what is gone, with the last state seen. A MODIFIED carries the version it
 * replaced: clients whose selector it enters or leaves get ADDED or DELETED.
 *
 * A deletion's own version is unknown (the list does not show it), only bounded: after the last version seen, at or
 * before `listRv`, before the version of an object of the same name created since (a name is free only once its old
 * object is gone), and not the version of any object listed (each write has a version of its own). Each DELETED is
 * placed at the latest version these bounds leave (`relisted`: the hub puts several there one after another, each
 * with an id of its own, Position in hub-event.ts). Placed lower, a client resuming from an id another replica
 * sent, between the lower place and the real deletion, would never get it; placed so, such a client gets it,
 * and one that already had it from that replica may get it a second time, which a client keyed by name shrugs off.
 * A name deleted and created again meanwhile still ends with its new object.
 */
export function diffEntries<E extends HubEntry>(before: ReadonlyMap<string, E>, after: ReadonlyMap<string, E>, listRv = 0): HubEvent<E>[] {
  const events: HubEvent<E>[] = []
  const listed = new Set<number>()
  const createdAt = new Map<string, number>()
  let latest = listRv
  for (const [uid, e] of after) {
    listed.add(e.resourceVersion)
    latest = Math.max(latest, e.resourceVersion)
    const old = before.get(uid)
    if (!old) {
      events.push(new HubEvent('ADDED', e, e.resourceVersion))
      const key = nameKey(e)
      createdAt.set(key, Math.min(createdAt.get(key) ?? Infinity, e.resourceVersion))
    } else if (old.resourceVersion !== e.resourceVersion) events.push(new HubEvent('MODIFIED', e, e.resourceVersion, old))
  }
  const unlisted = (v: number) => {
    while (v > 0 && listed.has(v)) v--
    return v
  }
  const gone = [...before].filter(([uid]) => !after.has(uid)).map(([, e]) => e).sort((a, b) => a.resourceVersion - b.resourceVersion)
  for (const e of gone) {
    const recreated = createdAt.get(nameKey(e))
    events.push(new HubEvent('DELETED', e, unlisted(recreated === undefined ? latest : recreated - 1), undefined, true))
  }
  // Stable: deletions placed at one version keep the order of the versions they were last seen at.
  return events.sort((a, b) => a.rv - b.rv)
}

const nameKey = (e: HubEntry) => `${e.namespace}/${e.name}`
