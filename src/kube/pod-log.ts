import type { Writable } from 'node:stream'
import type { KubeConfig } from '@kubernetes/client-node'
import { apiUnavailable, statusError } from './errors.js'
import { rawGet } from './raw-request.js'

/** core/v1 PodLogOptions as the log streamer passes them through (spec §2.8). */
export interface PodLogOptions {
  container: string
  follow?: boolean
  previous?: boolean
  timestamps?: boolean
  sinceSeconds?: number
  sinceTime?: string
  tailLines?: number
  limitBytes?: number
  insecureSkipTLSVerifyBackend?: boolean
}

const MAX_ERROR_BODY = 64 * 1024

/**
 * GET pods/{name}/log, streamed into `sink`, which is ended when the log ends — or breaks off: a broken upstream
 * read is the end of that pod's log, as upstream's scanner treats it. Resolves once the apiserver answered 200;
 * rejects with an ApiError otherwise. `signal` aborts the read at any point, before the answer too (a log with no
 * line yet may not have sent its headers).
 *
 * Not client-node's `Log`: it pipes node-fetch's body without an error listener (a reset connection is an
 * uncaught exception) and drops `tailLines=0`.
 */
export async function streamPodLog(kc: KubeConfig, namespace: string, pod: string, sink: Writable, o: PodLogOptions, signal: AbortSignal): Promise<void> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`
  return new Promise((resolve, reject) => {
    const request = rawGet(kc, path, { ...o }, { signal }, (res) => {
      if (res.statusCode !== 200) {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { if (body.length < MAX_ERROR_BODY) body += c })
        res.on('end', () => reject(statusError(res.statusCode ?? 500, body)))
        res.on('error', () => reject(statusError(res.statusCode ?? 500, body)))
        return
      }
      resolve()
      const finish = () => {
        res.unpipe(sink)
        if (!sink.writableEnded && !sink.destroyed) sink.end()
      }
      res.on('error', finish)
      res.on('aborted', finish)
      res.on('close', finish)
      res.pipe(sink)
    })
    request.then((req) => {
      req.on('error', (err) => {
        reject(apiUnavailable(err))
        if (!sink.writableEnded && !sink.destroyed) sink.end()
      })
      req.end()
    }, reject)
  })
}
