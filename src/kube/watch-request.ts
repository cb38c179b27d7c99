import { Watch, type KubeConfig } from '@kubernetes/client-node'
import type { KubeObject } from './resources.js'

export type WatchQuery = Record<string, string | number | boolean | undefined>

/**
 * One watch request. A 410 Gone answered to the request itself (an apiserver serving from etcd, a proxy) is told as
 * the watch cache tells it, an ERROR event with code 410 and then a close, so callers handle one form: the version
 * is gone, re-read. `onDone` gets client-node's error otherwise. Resolves with the request's abort controller.
 */
export function openWatch(kubeConfig: KubeConfig, path: string, query: WatchQuery,
  onEvent: (type: string, obj: KubeObject) => void, onDone: (err: unknown) => void): Promise<AbortController> {
  return new Watch(kubeConfig).watch(path, query, onEvent, (err: unknown) => {
    if ((err as { statusCode?: unknown } | null)?.statusCode === 410) {
      onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', metadata: {} } as KubeObject)
      return onDone(undefined)
    }
    onDone(err)
  })
}
