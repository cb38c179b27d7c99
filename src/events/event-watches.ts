import type { ApiError } from '../http/errors.js'
import type { KubeClient } from '../kube/client.js'
import { Informer, stallFor } from '../kube/informer.js'
import { KeyedStore } from '../kube/keyed-store.js'
import { answeredWithin, LAST_ATTEMPT_MS, refuseInOutage, SYNC_WAIT_MS } from '../kube/outage.js'
import type { KubeObject } from '../kube/resources.js'
import { WatchHub, type HubEntry } from '../kube/watch-hub.js'
import { toWireJson } from '../http/wire.js'

/** A core/v1 Event as the events stream serves it, with the fields its selectors may use. */
export interface EventEntry extends HubEntry {
  readonly fields: Readonly<Record<string, string>>
}

export const eventSelectorFields = [
  'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
  'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'type',
  'source', 'reportingComponent',
] as const

function toEventEntry(o: KubeObject): EventEntry | undefined {
  const md = o.metadata
  if (!md?.uid || !md.name) return undefined
  const { managedFields: _m, ...metadata } = md
  const { apiVersion: _a, kind: _k, ...rest } = o
  const fields: Record<string, string> = {}
  for (const f of eventSelectorFields) {
    let v: unknown = o
    for (const p of (f === 'source' ? 'source.component' : f).split('.')) v = (v as Record<string, unknown> | undefined)?.[p]
    fields[f] = v === undefined || v === null ? '' : String(v)
  }
  return {
    uid: md.uid, namespace: md.namespace ?? '', name: md.name, labels: md.labels ?? {},
    resourceVersion: Number(md.resourceVersion ?? 0) || 0, json: toWireJson({ ...rest, metadata }), fields,
  }
}

interface Scope {
  informer: Informer
  store: KeyedStore<EventEntry>
  hub: WatchHub<EventEntry>
  clients: number
  idle?: NodeJS.Timeout
}

const IDLE_MS = 30_000

/**
 * One Kubernetes watch of Events per namespace scope, opened when its first client connects and closed a while
 * after its last one leaves; every client of that scope shares it.
 */
export class EventWatches {
  readonly #kube: KubeClient
  readonly #scopes = new Map<string, Scope>()
  readonly #outageMs: number

  constructor(kube: KubeClient, outageMs: number) {
    this.#kube = kube
    this.#outageMs = outageMs
  }

  acquire(namespace: string): Scope {
    let scope = this.#scopes.get(namespace)
    if (!scope) {
      const store = new KeyedStore(toEventEntry)
      const hub = new WatchHub<EventEntry>({
        historyBytes: 4 * 1024 * 1024, outageMs: this.#outageMs, stillFailing: () => informer.attemptNow(LAST_ATTEMPT_MS),
      })
      // A deletion a re-list found (after a 410) has no version of its own (diffEntries): its object is the state
      // already sent, and the Events stream's frames carry no type (spec §2.9), so it would go out as an exact
      // repeat of that frame. It is dropped; a live deletion comes with the deletion's own version.
      store.subscribe((ev) => ev.relisted ? undefined : hub.publish(ev))
      const informer = new Informer(this.#kube.eventSource(namespace), store, {
        onHealth: (e, since) => hub.setHealth(e, since), stallMs: stallFor(this.#outageMs), outageMs: this.#outageMs,
        onProgress: (rv) => hub.advance(Number(rv) || 0),
      })
      informer.start()
      void informer.synced.then(() => hub.reset(store.resourceVersion))
      scope = { informer, store, hub, clients: 0 }
      this.#scopes.set(namespace, scope)
    }
    clearTimeout(scope.idle)
    scope.clients++
    return scope
  }

  /** Refuses a new client at once while the watch of `namespace`, if there is one, has declared an outage. */
  refuseInOutage(namespace: string): void {
    const scope = this.#scopes.get(namespace)
    if (scope) refuseInOutage(scope.hub)
  }

  /**
   * The scope's first list, failing with Unavailable when its watch declares an outage meanwhile (a new scope whose
   * list the API does not answer) or after SYNC_WAIT_MS, instead of keeping the client waiting with no headers.
   */
  synced(scope: Scope): Promise<void> {
    return answeredWithin(scope.informer.synced, 'the list of events', SYNC_WAIT_MS, scope.hub)
  }

  release(namespace: string): void {
    const scope = this.#scopes.get(namespace)
    if (!scope || --scope.clients > 0) return
    scope.idle = setTimeout(() => {
      if (scope.clients > 0) return
      scope.informer.stop()
      scope.hub.close()
      this.#scopes.delete(namespace)
    }, IDLE_MS)
    scope.idle.unref()
  }

  /** Stops every scope; with `reason`, open streams end with it. */
  close(reason?: ApiError): void {
    for (const s of this.#scopes.values()) {
      clearTimeout(s.idle)
      s.informer.stop()
      s.hub.close(reason)
    }
    this.#scopes.clear()
  }
}
