import type { AccessReview, Identity } from '../auth/index.js'
import { ApiError } from '../http/errors.js'
import { toWireJson } from '../http/wire.js'
import { applyFields, parseFields, type FieldMask } from '../lib/fields.js'
import { instanceIdRequirement } from '../lib/instance-id.js'
import { encodeContinue, parseListRequest, type ListRequest } from './list-query.js'
import { listDenied } from './service.js'
import type { ArchivedListing, PageItem, StoreQuery } from './store-query.js'
import type { WorkflowStore } from './workflow-store.js'

export interface ListDeps {
  store: WorkflowStore
  access: AccessReview
  instanceId: string
  /** resolves when the store holds a full list; rejects if it cannot get one in time */
  ready: () => Promise<void>
  /** with persistence: archived workflows are listed too (spec §2.4) */
  archive?: ArchivedListing
  /** a workflow's wire JSON with its compressed or offloaded nodes put back (spec §2.4 "Hydration") */
  hydrate?: (json: string) => Promise<string>
}

/**
 * ListWorkflows from the watch-fed store, authorized for the caller first (SelfSubjectAccessReview, as upstream):
 * a page costs O(page). Returns wire JSON, assembled from each entry's cached serialization when no `fields` mask
 * needs the objects.
 */
export async function listWorkflows(d: ListDeps, identity: Identity, r: ListRequest & { fields?: string }): Promise<string | Buffer> {
  const q = parseListRequest(r, instanceIdRequirement(d.instanceId))
  const authNs = q.namespaceNot ? '' : q.namespace
  await d.access.require(identity, { verb: 'list', group: 'argoproj.io', resource: 'workflows', namespace: authNs }, listDenied(authNs))
  await d.ready()
  // Read with the first page, from the same state: the next pages keep its order (key-moves.ts).
  const start = q.pagingStart ?? d.store.pagingStart
  const page = await pageOf(d, q)
  const last = page.items[page.items.length - 1]
  const metadata: Record<string, unknown> = { resourceVersion: d.store.resourceVersion }
  if (page.more && last) metadata.continue = encodeContinue(last, start)
  if (page.remaining !== undefined) metadata.remainingItemCount = page.remaining
  const mask = parseFields(r.fields)
  const items = await withNodes(page.items, mask, d.hydrate)
  if (!mask) return assemble(toWireJson(metadata), items)
  const list = { metadata, items: items.length ? items.map((e) => JSON.parse(typeof e.json === 'string' ? e.json : e.json.toString('utf8')) as unknown) : null }
  const masked = applyFields<Record<string, unknown>>(list, mask)
  // The masked JSON is decoded back into a WorkflowList upstream, so `metadata` and `items` always serialize.
  return toWireJson({ metadata: masked.metadata ?? {}, items: masked.items ?? null })
}

/** Items whose nodes the controller moved out, put back unless the mask drops `items.status.nodes` (as upstream). */
async function withNodes(items: readonly PageItem[], mask: FieldMask | undefined, hydrate?: (json: string) => Promise<string>): Promise<readonly PageItem[]> {
  const dehydrated = (e: PageItem) => e.dehydrated === true
  if (!hydrate || !items.some(dehydrated) || !keepsNodes(mask)) return items
  // A few at a time: each may read the offload table, and a page must not take the whole pool.
  const out = [...items]
  for (let i = 0; i < out.length; i += 4) {
    await Promise.all(out.slice(i, i + 4).map(async (e, j) => {
      if (dehydrated(e)) out[i + j] = { ...e, json: await hydrate(e.json.toString()) }
    }))
  }
  return out
}

function keepsNodes(mask: FieldMask | undefined): boolean {
  const probe = applyFields({ items: [{ status: { nodes: {} } }] } as { items?: { status?: { nodes?: object } }[] }, mask)
  return probe.items?.[0]?.status?.nodes !== undefined
}

/**
 * With an archive, live and archived workflows form one keyset-paged sequence. If the archive cannot be read the
 * request fails (503 code 14 while Postgres is unreachable or busy): a page of the live workflows alone would look
 * complete, and a client paging or looking for a workflow would draw the wrong conclusion (upstream fails too).
 */
export function pageOf(d: ListDeps, q: StoreQuery): Promise<{ items: readonly PageItem[]; more: boolean; remaining?: number }> {
  return d.archive ? d.archive.page(q) : Promise.resolve(d.store.query(q))
}

/** A list response from wire-JSON items; empty lists are `"items":null`, as Go marshals a nil slice (spec §0). */
export function assemble(metadataJson: string, items: readonly PageItem[]): string | Buffer {
  if (!items.length) return `{"metadata":${metadataJson},"items":null}`
  // Archive pages are all text: one join, encoded once when written, rather than a Buffer per item.
  if (items.every((e) => typeof e.json === 'string')) return `{"metadata":${metadataJson},"items":[${items.map((e) => e.json).join(',')}]}`
  const parts: Buffer[] = [Buffer.from(`{"metadata":${metadataJson},"items":[`)]
  items.forEach((e, i) => {
    if (i) parts.push(comma)
    parts.push(typeof e.json === 'string' ? Buffer.from(e.json) : e.json)
  })
  parts.push(close)
  return Buffer.concat(parts)
}

const comma = Buffer.from(',')
const close = Buffer.from(']}')

export function notReady(): ApiError {
  return ApiError.unavailable('the workflow list is not available yet: the server has not synced with Kubernetes')
}
