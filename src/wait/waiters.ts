import type { HubEvent } from '../kube/watch-hub.js'
import { COMPLETED_PHASES } from '../lib/workflow-phase.js'
import type { IndexEntry, WorkflowStore } from '../workflows/index.js'


export type WaitOutcome = 'completed' | 'timeout' | 'deleted' | 'aborted'

export interface WaitResult {
  outcome: WaitOutcome
  /** the workflow's wire JSON at that moment; undefined when this server never saw it */
  json: Buffer | string | undefined
}

/** The workflow as the waiter first knew it (the create answer or a live GET). */
export interface WaitStart {
  uid: string
  /** resourceVersion of `json` */
  resourceVersion: number
  phase: string
  json: Buffer | string
}

export function phaseOfJson(json: Buffer | string): string {
  const o = JSON.parse(typeof json === 'string' ? json : json.toString('utf8')) as { status?: { phase?: unknown } }
  return typeof o.status?.phase === 'string' ? o.status.phase : ''
}

interface Waiter { settle(r: WaitResult): void }

/**
 * Every waiter of this server, keyed by workflow uid, fed by ONE subscription to the watch-fed store (no watch per
 * waiter): an event costs a map lookup unless someone waits on that very workflow. Holds nothing durable: a
 * waiter is a pending HTTP answer; the workflow's state lives in Kubernetes, so any replica can answer a wait.
 */
export class WorkflowWaiters {
  readonly #store: WorkflowStore
  readonly #byUid = new Map<string, Set<Waiter>>()
  readonly #unsubscribe: () => void

  constructor(store: WorkflowStore) {
    this.#store = store
    this.#unsubscribe = store.subscribe((ev) => this.#onEvent(ev))
  }

  /** Number of pending waits (benchmark, tests). */
  get size(): number {
    let n = 0
    for (const s of this.#byUid.values()) n += s.size
    return n
  }

  #onEvent(ev: HubEvent<IndexEntry>): void {
    const set = this.#byUid.get(ev.entry.uid)
    if (!set) return
    const terminal = COMPLETED_PHASES.has(phaseOfJson(ev.entry.json))
    // The DELETED event carries the object's last state: finished → its outcome, else the run is gone unfinished.
    if (ev.type === 'DELETED') for (const w of [...set]) w.settle({ outcome: terminal ? 'completed' : 'deleted', json: ev.entry.json })
    else if (terminal) for (const w of [...set]) w.settle({ outcome: 'completed', json: ev.entry.json })
  }

  /**
   * Resolves when the workflow reaches a terminal phase or is deleted, after `timeoutMs` (with the current
   * state), or when `signal` aborts (the client went away: only the wait ends, never the workflow).
   * Registration and the first check are synchronous, so no event between them is missed.
   */
  wait(start: WaitStart, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    return new Promise((resolve) => {
      let done = false
      let timer: NodeJS.Timeout | undefined
      const waiter: Waiter = {
        settle: (r) => {
          if (done) return
          done = true
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          const set = this.#byUid.get(start.uid)
          set?.delete(waiter)
          if (set && !set.size) this.#byUid.delete(start.uid)
          resolve(r)
        },
      }
      const onAbort = () => waiter.settle({ outcome: 'aborted', json: undefined })
      const current = this.#store.get(start.uid)
      if (COMPLETED_PHASES.has(start.phase) && (!current || current.resourceVersion <= start.resourceVersion)) {
        return resolve({ outcome: 'completed', json: start.json })
      }
      if (current && COMPLETED_PHASES.has(phaseOfJson(current.json))) return resolve({ outcome: 'completed', json: current.json })
      // Not cached although the cache has seen a version at least as new: it was deleted before we registered.
      if (!current && Number(this.#store.resourceVersion) >= start.resourceVersion) return resolve({ outcome: 'deleted', json: start.json })
      if (signal?.aborted) return resolve({ outcome: 'aborted', json: undefined })
      let set = this.#byUid.get(start.uid)
      if (!set) this.#byUid.set(start.uid, (set = new Set()))
      set.add(waiter)
      signal?.addEventListener('abort', onAbort)
      timer = setTimeout(() => waiter.settle({ outcome: 'timeout', json: this.#store.get(start.uid)?.json ?? start.json }), timeoutMs)
    })
  }

  /** Server shutdown: every waiter is answered as timed out with the current state, to ask again elsewhere. */
  close(): void {
    this.#unsubscribe()
    for (const [uid, set] of [...this.#byUid]) for (const w of [...set]) w.settle({ outcome: 'timeout', json: this.#store.get(uid)?.json })
  }
}
