import { setTimeout as sleep } from 'node:timers/promises'
import { ApiError, GrpcCode } from '../http/errors.js'
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
  /** distinct versions read at once; a client asking for another meanwhile waits for its turn */
  maxConcurrent?: number
  /** how long a client waits for its turn and its read before it gives up (and gets a fresh snapshot) */
  timeoutMs?: number
  /** the first wait before a page that failed on the way (not a refusal) is asked again; it doubles, up to 2 s */
  retryMs?: number
  pageSize?: number
  log?: (msg: string) => void
}

/** The apiserver's answer when it ignores resourceVersionMatch: asking again gets the same. */
class NotAtVersion extends Error {}

/** Codes of answers worth asking again (an apiserver or etcd busy or timing out: 500, 503, 504, 429). */
const RETRIED = new Set<number>([GrpcCode.Internal, GrpcCode.Unavailable, GrpcCode.DeadlineExceeded, GrpcCode.ResourceExhausted, GrpcCode.Unknown])

/** A failure on the way, not Kubernetes refusing that version (410 Gone) or the caller: a lost connection, a 5xx. */
const transient = (err: unknown): boolean => err instanceof ApiError ? RETRIED.has(err.code) : !(err instanceof NotAtVersion)

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
  /** reads under way (at most maxConcurrent), and those waiting for their turn */
  #running = 0
  readonly #turns: (() => void)[] = []

  constructor(opts: PastStateOptions<E>) {
    this.#o = { maxConcurrent: 2, timeoutMs: 15_000, retryMs: 250, pageSize: 500, ...opts }
  }

  /** The entries by uid at `rv`; undefined when Kubernetes no longer has that version, or it cannot be read now. */
  at(namespace: string, rv: number): Promise<ReadonlyMap<string, E> | undefined> {
    const key = `${namespace}/${rv}`
    const shared = this.#reading.get(key)
    if (shared) return shared
    const deadline = Date.now() + this.#o.timeoutMs
    const read = this.#inTurn(deadline, () => this.#read(namespace, rv, deadline)).catch((err: unknown) => {
      // Usually 410 Gone (compacted): the clients get a fresh snapshot, as they would without this.
      this.#o.log?.(`resuming from resourceVersion ${rv}: no list at that version (${(err as Error).message}); a fresh snapshot instead`)
      return undefined
    }).finally(() => this.#reading.delete(key))
    this.#reading.set(key, read)
    return read
  }

  /**
   * `read` once fewer than maxConcurrent others run: the memory of a reconnect storm with many distinct versions
   * stays bounded, and each client still gets its diff (a fresh snapshot would leave deleted workflows with a
   * client that does not clear its state on one).
   */
  async #inTurn<T>(deadline: number, read: () => Promise<T>): Promise<T> {
    while (this.#running >= this.#o.maxConcurrent) {
      const wait = deadline - Date.now()
      if (wait <= 0) throw new Error('no turn to read it in time')
      await new Promise<void>((resolve) => {
        const turn = () => {
          clearTimeout(timer)
          resolve()
        }
        // Out of the queue when its time is up, so a turn is never handed to a caller that has gone.
        const timer = setTimeout(() => {
          const i = this.#turns.indexOf(turn)
          if (i >= 0) this.#turns.splice(i, 1)
          resolve()
        }, wait)
        this.#turns.push(turn)
      })
    }
    this.#running++
    try {
      return await read()
    } finally {
      this.#running--
      this.#turns.shift()?.()
    }
  }

  async #read(namespace: string, rv: number, deadline: number): Promise<ReadonlyMap<string, E>> {
    const source = this.#o.source(namespace)
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()))
    const out = new Map<string, E>()
    try {
      let cont: string | undefined
      do {
        // The first page names the version; the continue token of an Exact list keeps to it (and is 410 once gone).
        const p = cont ? { limit: this.#o.pageSize, continue: cont } : { limit: this.#o.pageSize, resourceVersion: String(rv), resourceVersionMatch: 'Exact' as const }
        const page = await this.#page(source, p, rv, deadline, abort.signal)
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

  /**
   * One page, asked again while it fails on the way and time remains: a fresh snapshot instead of the diff drops
   * every deletion the client missed (it cannot tell a snapshot from a diff), so one busy moment of etcd must not
   * cause it. The same continue token is asked again: it keeps to the version until that is compacted (410).
   */
  async #page(source: ListSource, p: Parameters<ListSource['list']>[0], rv: number, deadline: number, signal: AbortSignal) {
    for (let wait = this.#o.retryMs; ; wait = Math.min(2 * wait, 2_000)) {
      try {
        const page = await source.list(p, () => {}, signal)
        // An apiserver that ignores resourceVersionMatch (before 1.19) answers with the current state: no use.
        if (!p.continue && page.metadata.resourceVersion !== String(rv)) throw new NotAtVersion(`the list came at resourceVersion ${page.metadata.resourceVersion}, not ${rv}`)
        return page
      } catch (err) {
        if (signal.aborted || !transient(err) || Date.now() + wait >= deadline) throw err
        await sleep(wait)
      }
    }
  }
}
