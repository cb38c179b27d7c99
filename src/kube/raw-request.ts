import http from 'node:http'
import https from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { ApiError } from '../http/errors.js'

/**
 * A GET of `path` on the kubeconfig's cluster with its credentials, for reads whose body is consumed as it arrives
 * (a list page's progress, a pod log's stream), which client-node's typed calls only hand over whole. Empty and
 * undefined query values are left out. Call `end()` on the request.
 */
export async function rawGet(kc: KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>,
  o: { headers?: Record<string, string>; signal?: AbortSignal }, onResponse: (res: http.IncomingMessage) => void): Promise<http.ClientRequest> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw ApiError.internal('no current cluster in the kubeconfig')
  const url = new URL(`${cluster.server.replace(/\/$/, '')}${path}`)
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '' && v !== false) url.searchParams.set(k, String(v))
  const opts: https.RequestOptions = { method: 'GET', headers: o.headers, signal: o.signal }
  await kc.applyToHTTPSOptions(opts)
  return (url.protocol === 'https:' ? https : http).request(url, opts, onResponse)
}
