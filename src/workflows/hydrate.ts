import { gunzip, gzip } from 'node:zlib'
import { promisify } from 'node:util'
import { toWireJson } from '../http/wire.js'

const gunzipAsync = promisify(gunzip)
const gzipAsync = promisify(gzip)

/** Where the controller offloads node status (the archive database's offload table, src/archive/offloaded-nodes.ts). */
export interface OffloadedNodeSource {
  /** the nodes' JSON text saved under (uid, version); undefined when there is none */
  get(uid: string, version: string): Promise<string | undefined>
}

/** Where the controller keeps a workflow's nodes: in `status.nodes`, compressed, or offloaded to the database. */
export type NodeStorage = 'inline' | 'compressed' | 'offloaded'

export function nodeStorage(status: unknown): NodeStorage {
  const s = status as { compressedNodes?: unknown; offloadNodeStatusVersion?: unknown } | undefined
  return s?.offloadNodeStatusVersion ? 'offloaded' : s?.compressedNodes ? 'compressed' : 'inline'
}

/** Whether a workflow's status holds its nodes elsewhere: compressed, or offloaded to the database. */
export const isDehydrated = (status: unknown): boolean => nodeStorage(status) !== 'inline'

/** `status.compressedNodes` for `nodes`: gzip, then base64, as the controller's packer writes it. */
export async function compressNodes(nodes: unknown): Promise<string> {
  return (await gzipAsync(JSON.stringify(nodes ?? {}))).toString('base64')
}

/**
 * Puts a workflow's nodes back in `status.nodes` when the controller moved them out, as upstream's hydrator
 * (workflow/hydrator): gzip and base64 in `status.compressedNodes`, or offloaded under
 * `status.offloadNodeStatusVersion`. Returns what could not be restored (no source, or the row is gone), for the
 * caller to log; the workflow then keeps the field that says where its nodes were. Throws when the database
 * cannot be read.
 */
export async function hydrateNodes(status: Record<string, unknown>, uid: string, offloaded: OffloadedNodeSource | undefined): Promise<string | undefined> {
  const compressed = status.compressedNodes
  if (typeof compressed === 'string' && compressed) {
    try {
      status.nodes = JSON.parse((await gunzipAsync(Buffer.from(compressed, 'base64'))).toString('utf8')) as unknown
      delete status.compressedNodes
    } catch (err) {
      return `status.compressedNodes cannot be read (${(err as Error).message}); kept as it is`
    }
  }
  const version = status.offloadNodeStatusVersion
  if (typeof version !== 'string' || !version) return undefined
  const nodes = offloaded && await offloaded.get(uid, version)
  if (nodes === undefined) return `its offloaded nodes (version ${version}) are ${offloaded ? 'no longer in the offload table' : 'in a database this server has not been given'}`
  status.nodes = JSON.parse(nodes) as unknown
  delete status.offloadNodeStatusVersion
  return undefined
}

/**
 * The wire JSON of a workflow with its nodes put back, for streams: never throws, since a dashboard is better
 * served the workflow as Kubernetes holds it than cut off; what failed goes to `log`.
 */
export function jsonHydrator(offloaded: OffloadedNodeSource | undefined, log: (msg: string) => void): (json: string) => Promise<string> {
  // A running workflow changes many times a second: its nodes that cannot be restored are reported once.
  const reported = new Set<string>()
  return async (json) => {
    // Most workflows hold their nodes: answered without parsing them.
    if (!json.includes('"compressedNodes":"') && !json.includes('"offloadNodeStatusVersion":"')) return json
    try {
      const wf = JSON.parse(json) as { metadata?: { uid?: string; namespace?: string; name?: string }; status?: Record<string, unknown> }
      if (!wf.status || !isDehydrated(wf.status)) return json
      const uid = wf.metadata?.uid ?? ''
      const lost = await hydrateNodes(wf.status, uid, offloaded)
      if (lost && !reported.has(uid)) {
        if (reported.size >= 10_000) reported.clear()
        reported.add(uid)
        log(`workflow ${wf.metadata?.namespace}/${wf.metadata?.name}: ${lost}`)
      }
      return toWireJson(wf)
    } catch (err) {
      log(`workflow nodes cannot be put back: ${(err as Error).message}`)
      return json
    }
  }
}
