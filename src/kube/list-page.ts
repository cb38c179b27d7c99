import type { KubeConfig } from '@kubernetes/client-node'
import { statusError } from './errors.js'
import { rawGet } from './raw-request.js'
import type { KubeList, ListParams } from './resources.js'

/**
 * One page of a list at `path` (an informer's list-then-watch path), with `progress` called as its bytes arrive.
 * Not through client-node's typed lists: they resolve only once the whole body is in, so a page of 500 large
 * workflows arriving slowly but steadily looked like an apiserver that does not answer (an outage, every stream
 * ended). `ListParams.continue` is sent as `continue`, the wire name.
 */
export async function listPage(kc: KubeConfig, path: string, p: ListParams, progress: () => void, signal?: AbortSignal): Promise<KubeList> {
  const query = {
    labelSelector: p.labelSelector, fieldSelector: p.fieldSelector, limit: p.limit, continue: p.continue,
    resourceVersion: p.resourceVersion, resourceVersionMatch: p.resourceVersionMatch,
  }
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = rawGet(kc, path, query, { headers: { accept: 'application/json' }, signal }, (res) => {
      progress()
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => {
        chunks.push(c)
        progress()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
      res.on('aborted', () => reject(new Error('the list response was cut off')))
    })
    request.then((req) => {
      req.on('error', reject)
      req.end()
    }, reject)
  })
  if (body.status !== 200) throw statusError(body.status, body.text)
  const list = JSON.parse(body.text) as { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] }
  return { metadata: { resourceVersion: list.metadata?.resourceVersion, continue: list.metadata?.continue }, items: (list.items ?? []) as KubeList['items'] }
}
