import type { AccessReview, Identity } from '../auth/index.js'
import type { EventStream } from '../http/stream.js'
import { parsePosition } from '../kube/hub-event.js'
import { refuseInOutage } from '../kube/outage.js'
import { matchesFields, parseFieldSelector } from '../lib/field-selector.js'
import { matchesLabels, parseLabelSelector } from '../lib/label-selector.js'
import { eventSelectorFields, type EventEntry, type EventWatches } from './event-watches.js'

const allowedFields = new Set<string>(['metadata.name', 'metadata.namespace', ...eventSelectorFields])

export interface EventsRequest {
  namespace: string
  labelSelector?: string
  fieldSelector?: string
  /** Last-Event-ID, else listOptions.resourceVersion */
  resume?: string
}

/**
 * WatchEvents from the scope's one shared watch of core/v1 Events (EventWatches): authorized for the caller at
 * connect, filtered per client, resumed exactly after `resume` while retained, else the Events newer than it.
 */
export async function watchEvents(deps: { watches: EventWatches; access: AccessReview }, identity: Identity, r: EventsRequest, stream: EventStream): Promise<void> {
  const { namespace } = r
  const labels = parseLabelSelector(r.labelSelector ?? '')
  const fields = parseFieldSelector(r.fieldSelector ?? '', allowedFields)
  // In an outage already declared: a 503 at once, not a permission check the API cannot answer (spec §3).
  deps.watches.refuseInOutage(namespace)
  await deps.access.require(identity, { verb: 'watch', group: '', resource: 'events', namespace },
    `Permission denied, you are not allowed to watch events in namespace "${namespace}".`)
  const scope = deps.watches.acquire(namespace)
  stream.onClose(() => deps.watches.release(namespace))
  await deps.watches.synced(scope)
  const matches = (e: EventEntry) => matchesLabels(labels, e.labels) &&
    matchesFields(fields, (f) => (f === 'metadata.name' ? e.name : f === 'metadata.namespace' ? e.namespace : e.fields[f] ?? ''))
  const resume = r.resume
  // An id another replica sent may be ahead of this one's watch for a moment: resumed exactly once it catches up.
  if (resume) await scope.hub.catchUp(resume)
  // An id this stream sent (a resourceVersion, or `rv.n`: see Position in kube/hub-event.ts).
  const from = resume && resume !== '0' && scope.hub.canResumeFrom(resume) ? resume : undefined
  // Nothing stale goes out before an outage error: the client is refused with a 503 instead.
  refuseInOutage(scope.hub)
  stream.open()
  if (from === undefined) {
    // A version older than the hub's history (this server restarted, or started after the client's last
    // event): every Event of a newer version, in version order, is what changed since. Events frames carry
    // no type (spec §2.9), so a deletion has nothing to say either way; the rest of a snapshot the client has.
    const since = resume && scope.hub.predates(resume) ? parsePosition(resume)?.rv : undefined
    const snapshot = [...scope.store.values()].filter((e) => matches(e) && (since === undefined || e.resourceVersion > since))
    // In version order either way: the last Event's resourceVersion is where an NDJSON client resumes.
    snapshot.sort((a, b) => a.resourceVersion - b.resourceVersion)
    // Only the last event of a snapshot carries an id, the watch's position, so a reconnect resumes exactly
    // after the snapshot and one cut off half-way starts over.
    const position = scope.hub.position
    // At the client's pace, live events held behind it (a snapshot may be larger than the buffer bound).
    stream.sendSnapshot(snapshot, (e) => e.json.toString(), position, () => true)
  }
  const unsubscribe = scope.hub.subscribe({
    matches,
    deliver: (ev) => void stream.sendShared(ev.entry.json.toString(), ev.id, ev.frames),
    fail: (err) => stream.fail(err),
  }, from)
  stream.onClose(unsubscribe)
}
