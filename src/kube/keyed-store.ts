import { diffEntries } from './diff.js'
import type { InformerEvent, InformerHandler } from './informer.js'
import type { KubeObject } from './resources.js'
import { HubEvent, type HubEntry } from './watch-hub.js'

/**
 * The smallest informer-fed cache: current objects by uid, publishing each version once and, after a re-list,
 * what changed meanwhile. (WorkflowStore is the same contract with list indexes on top.)
 */
export class KeyedStore<E extends HubEntry> implements InformerHandler {
  readonly #toEntry: (o: KubeObject) => E | undefined
  #byUid = new Map<string, E>()
  #pending: Map<string, E> | undefined
  #synced = false
  resourceVersion = 0
  readonly #listeners = new Set<(ev: HubEvent<E>) => void>()

  constructor(toEntry: (o: KubeObject) => E | undefined) {
    this.#toEntry = toEntry
  }

  values(): IterableIterator<E> {
    return this.#byUid.values()
  }

  subscribe(listener: (ev: HubEvent<E>) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  beginSync(): void {
    this.#pending = new Map()
  }

  syncPage(objects: KubeObject[]): void {
    for (const o of objects) {
      const e = this.#toEntry(o)
      if (e) this.#pending?.set(e.uid, e)
    }
  }

  endSync(resourceVersion: string): void {
    const before = this.#byUid
    this.#byUid = this.#pending ?? new Map()
    this.#pending = undefined
    this.resourceVersion = Number(resourceVersion) || 0
    if (this.#synced) for (const ev of diffEntries(before, this.#byUid, this.resourceVersion)) this.#emit(ev)
    this.#synced = true
  }

  onEvent(type: InformerEvent, obj: KubeObject, resourceVersion: string): void {
    this.resourceVersion = Number(resourceVersion) || this.resourceVersion
    const e = this.#toEntry(obj)
    if (!e) return
    const old = this.#byUid.get(e.uid)
    if (type === 'DELETED') {
      if (old) this.#byUid.delete(e.uid)
      this.#emit(new HubEvent('DELETED', e, e.resourceVersion))
      return
    }
    if (old && old.resourceVersion >= e.resourceVersion) return
    this.#byUid.set(e.uid, e)
    this.#emit(new HubEvent(old ? 'MODIFIED' : 'ADDED', e, e.resourceVersion, old))
  }

  #emit(ev: HubEvent<E>): void {
    for (const l of this.#listeners) l(ev)
  }
}
