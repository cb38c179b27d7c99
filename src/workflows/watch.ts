import type { AccessReview, Identity } from '../auth/index.js'
import { ApiError, GrpcCode } from '../http/errors.js'
import type { EventStream } from '../http/stream.js'
import { refuseInOutage } from '../kube/outage.js'
import type { WatchHub } from '../kube/watch-hub.js'
import { matchesFields, parseFieldSelector, type FieldRequirement } from '../lib/field-selector.js'
import { instanceIdRequirement } from '../lib/instance-id.js'
import { matchesLabels, type Requirement } from '../lib/label-selector.js'
import { parseSelector } from './list-query.js'
import { changesSince } from './watch-resume.js'
import type { IndexEntry } from './workflow-index.js'
import type { WorkflowStore } from './workflow-store.js'

export interface WatchDeps {
  store: WorkflowStore
  hub: WatchHub<IndexEntry>
  access: AccessReview
  instanceId: string
  ready: () => Promise<void>
  /** a workflow's wire JSON with its compressed or offloaded nodes put back (spec §2.9: events are hydrated) */
  hydrate: (json: string) => Promise<string>
  /** a scope's workflows at a past resourceVersion (PastStates): for clients resuming from before the hub's history */
  past?: { at(namespace: string, rv: number): Promise<ReadonlyMap<string, IndexEntry> | undefined> }
}

export interface WatchRequest {
  namespace: string
  labelSelector?: string
  fieldSelector?: string
  /** listOptions.resourceVersion, or the SSE Last-Event-ID header (which wins) */
  resumeFrom?: string
}

const watchFields = new Set(['metadata.name', 'metadata.namespace'])

function parseFields(selector: string | undefined): FieldRequirement[] {
  return parseFieldSelector(selector ?? '', watchFields)
}

/**
 * WatchWorkflows from the server's one shared watch (spec §2.9; lessons §1d: upstream opens one Kubernetes watch per
 * client): authorized for the caller at connect, filtered per client, resumed exactly after `resumeFrom` while retained, else a fresh snapshot of
 * ADDED events, never an error loop.
 */
export async function watchWorkflows(d: WatchDeps, identity: Identity, r: WatchRequest, stream: EventStream): Promise<void> {
  const labels: Requirement[] = [...parseSelector(r.labelSelector), instanceIdRequirement(d.instanceId)]
  let fields = parseFields(r.fieldSelector)
  // In an outage already declared: a 503 at once, not a permission check the API cannot answer (spec §3).
  refuseInOutage(d.hub)
  await d.access.require(identity, { verb: 'watch', group: 'argoproj.io', resource: 'workflows', namespace: r.namespace },
    `Permission denied, you are not allowed to watch workflows in namespace "${r.namespace}".`)
  await d.ready()
  // `metadata.name=@latest` is resolved once and replaces the whole field selector (spec §2.2).
  if (fields.some((f) => f.field === 'metadata.name' && f.op === '=' && f.value === '@latest')) {
    const latest = d.store.latest(r.namespace)
    if (!latest) throw ApiError.notFound('no workflows found')
    fields = [{ field: 'metadata.name', op: '=', value: latest.name }]
  }
  const matches = (e: IndexEntry) =>
    (!r.namespace || e.namespace === r.namespace) &&
    matchesLabels(labels, e.labels) &&
    matchesFields(fields, (f) => (f === 'metadata.name' ? e.name : e.namespace))
  // An id another replica sent may be ahead of this one's watch for a moment: resumed exactly once it catches up.
  if (r.resumeFrom) await d.hub.catchUp(r.resumeFrom)
  // An id this stream sent (a resourceVersion, or `rv.n` for events placed after one: see Position in kube/hub-event.ts).
  const from = r.resumeFrom && r.resumeFrom !== '0' && d.hub.canResumeFrom(r.resumeFrom) ? r.resumeFrom : undefined
  // Checked again with nothing sent yet: a reconnect during an outage gets the 503 alone, not a stale snapshot
  // followed by it (which an EventSource would fetch again and again).
  refuseInOutage(d.hub)
  stream.open()
  // Resuming from before the history (this server restarted, or started after the client's last event): the state
  // at that version, from Kubernetes while it keeps it, to tell the client only what changed since.
  const past = from === undefined && r.resumeFrom && d.past && d.hub.predates(r.resumeFrom) ? await pastState(d, r, stream) : undefined
  if (stream.closed) return
  const inOrder = orderedSender(d.hydrate, (err) => stream.fail(err))
  if (from === undefined) {
    // From here to the subscription nothing awaits, so the events it gets are exactly those after what this sends.
    // Only the last of these events carries an id, so a client cut off half-way starts over. They go out at the
    // client's pace (a snapshot may be far larger than the buffer bound), live events held behind them.
    const current = d.store.published(r.namespace)
    const object = async (e: IndexEntry) => e.dehydrated ? await d.hydrate(e.json.toString()) : e.json.toString()
    if (past) {
      stream.sendSnapshot(changesSince(past, current, matches, Number(d.store.resourceVersion) || 0), async (ev) => `{"type":"${ev.type}","object":${await object(ev.sent)}}`, d.hub.position)
    } else {
      // In version order: an NDJSON client (no ids) resuming from the last object's resourceVersion it got, as a
      // client of a Kubernetes watch does, resumes after the whole snapshot, not from an older one of its objects.
      const snapshot = current.filter(matches).sort((a, b) => a.resourceVersion - b.resourceVersion)
      // Shared by the clients connecting together, but for workflows whose nodes are put back: a failed offload read
      // gives the workflow without them, which the next client's read, once Postgres answers, must not inherit.
      stream.sendSnapshot(snapshot, async (e) => `{"type":"ADDED","object":${await object(e)}}`, d.hub.position, (e) => !e.dehydrated)
    }
  }
  const unsubscribe = d.hub.subscribe({
    matches,
    deliver: (ev) => inOrder(ev, ev.sent, (h) => void (h
      ? stream.sendShared(`{"type":"${ev.type}","object":${h.object}}`, ev.id, h.frames)
      : stream.sendShared(ev.watchResult, ev.id, ev.frames))),
    fail: (err) => stream.fail(err),
  }, from)
  stream.onClose(unsubscribe)
}

/** The scope at the client's version; an outage or the shutdown ends the stream while it waits, as it ends the others. */
async function pastState(d: WatchDeps, r: WatchRequest, stream: EventStream): Promise<ReadonlyMap<string, IndexEntry> | undefined> {
  const stop = d.hub.onOutage((err) => stream.fail(err))
  try {
    return await d.past?.at(r.namespace, Number(r.resumeFrom))
  } finally {
    stop()
  }
}

/** A workflow with its nodes put back, and the frames built from it for the clients it goes to. */
interface Hydrated { object: string; frames: Map<string, Buffer> }

/**
 * Hydrations under way, by event (its frames carry its type and id: a DELETED event shares its entry with the
 * MODIFIED before it), shared by the clients it is fanned out to synchronously in one publish. Dropped right
 * after, frames included, rather than kept with the event in the hub's history: a hydrated workflow can be many
 * megabytes, and a replay hydrates afresh.
 */
const hydrating = new Map<object, Promise<Hydrated>>()

/** Events one client may have waiting behind a hydration (a slow offload read) before it is cut off. */
const MAX_QUEUED = 1_000

/**
 * One client's sends, in order. Almost every workflow holds its nodes and goes out at once (undefined: the cached
 * JSON as it is). One whose nodes are compressed or offloaded is put back first, asynchronously, and holds the
 * events after it until it has gone out.
 */
function orderedSender(hydrate: (json: string) => Promise<string>, fail: (err: unknown) => void) {
  let pending: Promise<void> | undefined
  let queued = 0
  const onError = (err: unknown) => {
    try {
      // An offload read's 503 stays a 503; anything unexpected is logged by the stream and sent as internal.
      fail(err)
    } catch {
      // the stream is gone already
    }
  }
  return (key: object, e: IndexEntry, send: (hydrated: Hydrated | undefined) => void): void => {
    if (!pending && !e.dehydrated) return send(undefined)
    if (++queued > MAX_QUEUED) return fail(new ApiError(GrpcCode.ResourceExhausted, 'the client is too far behind: stream closed'))
    let hydrated: Promise<Hydrated> | undefined
    if (e.dehydrated) {
      hydrated = hydrating.get(key)
      if (!hydrated) {
        hydrated = hydrate(e.json.toString()).then((object) => ({ object, frames: new Map() }))
        hydrated.catch(() => {}) // handled where awaited; not unhandled while it waits its turn
        hydrating.set(key, hydrated)
        setImmediate(() => hydrating.delete(key))
      }
    }
    const p: Promise<void> = (pending ?? Promise.resolve()).then(async () => send(hydrated ? await hydrated : undefined)).catch(onError)
    pending = p
    void p.finally(() => {
      queued--
      if (pending === p) pending = undefined
    })
  }
}
