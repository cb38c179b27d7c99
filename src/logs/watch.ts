import { ApiError, GrpcCode } from '../http/errors.js'
import type { KubeClient } from '../kube/client.js'
import type { KubeObject } from '../kube/resources.js'

export interface WatchLoopOptions {
  kube: KubeClient
  /** e.g. /api/v1/namespaces/argo/pods */
  path: string
  labelSelector?: string
  fieldSelector?: string
  /** where the preceding list or get left off, so nothing falls between it and the watch */
  resourceVersion: string
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void
  /** the resourceVersion expired (410): re-read the state (emitting what matters) and return the new version */
  relist(): Promise<string>
  /** the watch cannot go on (denied, or failing for too long) */
  onError(err: ApiError): void
  /** asked of the apiserver, so each watch is renewed; default WATCH_SECONDS */
  timeoutSeconds?: number
}

const MAX_FAILURES = 8
const HEALTHY_MS = 5_000
/**
 * Short, so a follow's watches are renewed often: one the apiserver (or a proxy) stops feeding, or a connection
 * dropped without a word, holds back new pods and the workflow's end for at most this long and a bit.
 */
const WATCH_SECONDS = 60
/** past the timeout asked for (a quarter of it, at most this), a watch still open is taken for stuck and replaced */
const STUCK_AFTER_MS = 15_000

/**
 * A watch with the caller's credentials that survives the apiserver closing it (timeouts, restarts): it resumes
 * from the last resourceVersion seen, re-reads on 410 Gone, backs off on errors, and gives up on 401/403 or after
 * MAX_FAILURES consecutive failures. Returns the stop function.
 */
export function watchLoop(o: WatchLoopOptions): () => void {
  let rv = o.resourceVersion
  let stopped = false
  let stopWatch: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  /** replaces the current watch once it is open well past its timeoutSeconds */
  let stuck: NodeJS.Timeout | undefined
  let failures = 0

  const retry = (err: unknown) => {
    if (stopped) return
    const e = err instanceof ApiError ? err : ApiError.unavailable(`watch of ${o.path} failed: ${(err as Error)?.message ?? String(err)}`)
    if (e.code === GrpcCode.PermissionDenied || e.code === GrpcCode.Unauthenticated || ++failures > MAX_FAILURES) {
      stopped = true
      o.onError(e)
      return
    }
    timer = setTimeout(() => void start(), Math.min(100 * 2 ** failures, 5_000))
  }

  const start = async (): Promise<void> => {
    if (stopped) return
    let gone = false
    const began = Date.now()
    const timeoutSeconds = o.timeoutSeconds ?? WATCH_SECONDS
    let ended = false
    try {
      const stop = await o.kube.watch(o.path, {
        labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds,
      }, (type, obj) => {
        if (stopped) return
        if (type === 'ERROR') {
          if ((obj as { code?: unknown }).code === 410) gone = true
          return
        }
        const next = obj?.metadata?.resourceVersion
        if (next) rv = next
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') o.onEvent(type, obj)
      }, (err) => {
        ended = true
        clearTimeout(stuck)
        stopWatch = undefined
        if (stopped) return
        if (gone) return void relist()
        if (err) return retry(err)
        // a clean close after a while (the apiserver's timeout) resumes at once; an immediate one counts as a failure
        if (Date.now() - began >= HEALTHY_MS) failures = 0
        else if (failures >= MAX_FAILURES) return retry(ApiError.unavailable(`watch of ${o.path} keeps closing`))
        else failures++
        void start()
      })
      if (stopped) return stop()
      if (ended) return // refused or closed already: its done has taken the next step
      stopWatch = stop
      // Stopped here, this watch says nothing more (its done is not called): the next one starts from `rv`.
      stuck = setTimeout(() => {
        stop()
        stopWatch = undefined
        void start()
      }, timeoutSeconds * 1000 + Math.min(STUCK_AFTER_MS, timeoutSeconds * 250))
      stuck.unref()
    } catch (err) {
      retry(err)
    }
  }

  const relist = async (): Promise<void> => {
    try {
      rv = await o.relist()
      void start()
    } catch (err) {
      retry(err)
    }
  }

  void start()
  return () => {
    stopped = true
    clearTimeout(timer)
    clearTimeout(stuck)
    stopWatch?.()
  }
}
