import { ApiError } from '../http/errors.js'
import type { HubEntry, OutageNotice, WatchHub } from './watch-hub.js'

/**
 * How long a new stream waits on one request to the Kubernetes API (its permission check, the workflow and pods a
 * log stream starts from) before it fails with Unavailable: the informer's stall allowance at the default window.
 */
export const ANSWER_WITHIN_MS = 10_000

/** How long a request waits for an informer's first list (the workflow cache, a scope of Events) before it fails. */
export const SYNC_WAIT_MS = 30_000

/**
 * How long the attempt made as an outage is about to be declared may take (Informer.attemptNow): an API that answers
 * at all answers in far less, and a watch it accepts counts once it has stayed open a second.
 */
export const LAST_ATTEMPT_MS = 2_000

/**
 * Refuses a new stream while `hub` has declared the Kubernetes API out, with the stream error its other clients
 * got: at once and before anything is sent, rather than after a permission check the API cannot answer, or after a
 * stale snapshot (an EventSource would reconnect and get both again, in a loop).
 */
export function refuseInOutage<E extends HubEntry>(hub: WatchHub<E>): void {
  const refused = hub.outageError
  if (refused) throw refused
}

/**
 * `p`, unless it is still unanswered after `ms` or when `outages` next declares the Kubernetes API out: then an
 * Unavailable error, so a stream that has not opened yet ends with a 503 (spec §3) instead of hanging with the API.
 * `p` itself is left to settle, unobserved.
 */
export function answeredWithin<T>(p: Promise<T>, what: string, ms: number, outages?: OutageNotice): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    let stop = () => {}
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stop()
      fn()
    }
    const timer = setTimeout(() => settle(() => reject(
      ApiError.unavailable(`the Kubernetes API is unavailable: no answer to ${what} within ${Number((ms / 1000).toFixed(1))} s`))), ms)
    stop = outages?.onOutage((err) => settle(() => reject(err))) ?? stop
    p.then((v) => settle(() => resolve(v)), (err: unknown) => settle(() => reject(err)))
  })
}
