import type { KubeConfig } from '@kubernetes/client-node'
import type { KubeList, KubeObject, ListParams } from './resources.js'

/** Where an informer lists and watches: one resource in one namespace or all (KubeClient.listSource). */
export interface ListSource {
  readonly kubeConfig: KubeConfig
  /** a page; `progress` is called as its bytes arrive; `signal` aborts it */
  list(p: ListParams, progress: () => void, signal?: AbortSignal): Promise<KubeList>
  readonly watchPath: string
  readonly what: string
}

export type InformerEvent = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface InformerHandler {
  /**
   * A full list replaces what the informer knew (at start and after a 410): `syncPage` is called with each page
   * as it arrives, so no more than one page of parsed objects is held at a time, then `endSync`.
   */
  beginSync(): void
  syncPage(objects: KubeObject[]): void
  endSync(resourceVersion: string): void
  onEvent(type: InformerEvent, obj: KubeObject, resourceVersion: string): void
}

export interface InformerOptions {
  pageSize?: number
  /** watch timeout asked of the apiserver, so watches are renewed periodically */
  watchTimeoutSeconds?: number
  log?: (msg: string, err?: unknown) => void
  /**
   * Told of every failed attempt, with when the API last answered anything (where an outage starts, however late
   * the failure was noticed), and of the recovery (`undefined`).
   */
  onHealth?: (error: Error | undefined, since?: number) => void
  /**
   * How long a request may go unanswered, and a watch stay silent before the API is asked whether it still answers,
   * before the informer reports a failure: a stopped apiserver or a proxy that holds connections open is an
   * outage, not a silent hang. The requests themselves are still awaited.
   */
  stallMs?: number
  /**
   * How long a watch may stay silent (no event, no bookmark) while the probes find the API answering at another
   * resourceVersion before it is taken for stuck and re-opened from where it was: a connection a NAT or load
   * balancer dropped without a word stays open here until timeoutSeconds. client-go notices the same within ~45 s
   * by HTTP/2 pings. The default is past the apiserver's bookmark period (its watch cache sends one a minute), so a
   * live watch on a quiet namespace is never taken for stuck.
   */
  stuckMs?: number
  /**
   * Told whenever every change up to a resourceVersion has been handed to the handler: at a watch bookmark, and at
   * the end of a list (after a 410, the list's version is usually past the last change in scope: the cluster's).
   */
  onProgress?: (resourceVersion: string) => void
  /**
   * When failures become an outage for the clients (onHealth's `since` plus this; WatchHub): one more attempt is
   * made shortly before, and attempts are frequent after, so an API back within the window is found before the
   * deadline, and one back after it soon, not a doubled backoff later (up to 10 s).
   */
  outageMs?: number
}
