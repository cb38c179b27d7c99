import type { ListSource } from './informer.js'
import type { KubeObject } from './resources.js'
import type { HubEntry } from './watch-hub.js'

export interface PastStateOptions<E extends HubEntry> {
  /** where a namespace's objects ('' = all) are listed, with the server's own credentials */
  source(namespace: string): ListSource
  /**
   * An object as listed, as the entry kept for it: kept for every object of a scope until the diff is made, so
   * the caller drops what a diff will not need (the body of an object that still exists).
   */
  toEntry(obj: KubeObject): E | undefined
  /** distinct versions read at once; a client asking for another meanwhile gets undefined (a fresh snapshot) */
  maxConcurrent?: number
  /** how long one read may take before its clients give up on it */
  timeoutMs?: number
  pageSize?: number
  log?: (msg: string) => void
}

/**
 * A scope's objects as they were at an exact past resourceVersion, listed from Kubernetes
 * (resourceVersionMatch=Exact, which the apiserver serves from etcd until that revision is compacted, ~5 minutes
 * by default). A client reconnecting with an id older than the hub's history (the server restarted, or it is
 * another replica that started later) is told what changed since by diffing this against the current state,
 * instead of getting a fresh snapshot. Clients asking for the same scope and version at the same time (a rollout's
 * reconnect storm) share one read.
 */
export class PastStates<E extends HubEntry> {
  readonly #o: Required<Omit<PastStateOptions<E>, 'log'>> & Pick<PastStateOptions<E>, 'log'>
  readonly #reading = new Map<string, Promise<ReadonlyMap<string, E> | undefined>>()

  constructor(opts: PastStateOptions<E>) {
    this.#o = { maxConcurrent: 2, timeoutMs: 15_000, pageSize: 500, ...opts }
  }

  /** The entries by uid at `rv`; undefined when Kubernetes no longer has that version, or it cannot be read now. */
  at(namespace: string, rv: number): Promise<ReadonlyMap<string, E> | undefined> {
    const key = `${namespace}/${rv}`
    const shared = this.#reading.get(key)
    if (shared) return shared
    if (this.#reading.size >= this.#o.maxConcurrent) return Promise.resolve(undefined)
    const read = this.#read(namespace, rv).catch((err: unknown) => {
      // Usually 410 Gone (compacted): the clients get a fresh snapshot, as they would without this.
      this.#o.log?.(`resuming from resourceVersion ${rv}: no list at that version (${(err as Error).message}); a fresh snapshot instead`)
      return undefined
    }).finally(() => this.#reading.delete(key))
    this.#reading.set(key, read)
    return read
  }

  async #read(namespace: string, rv: number): Promise<ReadonlyMap<string, E>> {
    const source = this.#o.source(namespace)
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), this.#o.timeoutMs)
    const out = new Map<string, E>()
    try {
      let cont: string | undefined
      do {
        // The first page names the version; the continue token of an Exact list keeps to it (and is 410 once gone).
        const p = cont ? { limit: this.#o.pageSize, continue: cont } : { limit: this.#o.pageSize, resourceVersion: String(rv), resourceVersionMatch: 'Exact' as const }
        const page = await source.list(p, () => {}, abort.signal)
        // An apiserver that ignores resourceVersionMatch (before 1.19) answers with the current state: no use.
        if (!cont && page.metadata.resourceVersion !== String(rv)) throw new Error(`the list came at resourceVersion ${page.metadata.resourceVersion}, not ${rv}`)
        for (const obj of page.items) {
          const e = this.#o.toEntry(obj)
          if (e) out.set(e.uid, e)
        }
        cont = page.metadata.continue || undefined
      } while (cont)
      return out
    } finally {
      clearTimeout(timer)
    }
  }
}
