import { LabelInstanceId } from '../lib/instance-id.js'
import type { Requirement } from '../lib/label-selector.js'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import { compareKeys, type ArchivedListing, type MergedPage, type PageItem, type SortKey, type StoreQuery, type WorkflowStore } from '../workflows/index.js'
import type { ArchiveReader } from './archive-read-repository.js'
import type { ArchiveFilter } from './types.js'

const notArchived: Requirement = { key: ARCHIVING_STATUS, operator: '!=', values: ['Archived'] }
const REMAINING_CAP = 100_000

/** A live object is listed from the cache unless it is labelled Archived: then its archived copy stands for it. */
const shownLive = (store: WorkflowStore, uid: string) => {
  const e = store.get(uid)
  return e !== undefined && e.labels[ARCHIVING_STATUS] !== 'Archived'
}

export function archiveFilterOf(q: StoreQuery, after: SortKey | undefined, limit: number): ArchiveFilter {
  // The instance-ID requirement is the row's `instanceid` column (spec §6.3), not a label subquery.
  const labels = q.labels.filter((r) => r.key !== LabelInstanceId)
  return { ...q, labels, after, offset: undefined, limit }
}

/**
 * ListWorkflows over the cache and the archive as one sequence in upstream's order (unfinished by creation desc,
 * then finished by finishedAt desc; uid breaks ties): both sources are read from the same keyset position and
 * merged, so a page never depends on counts (no count(*)) and paging is stable across the live/archive boundary.
 * Each workflow appears once: a live object labelled Archived is shown from the archive (as upstream's server
 * store drops it, spec §2.4), and an archived row whose live object is still shown (archived a moment ago, or
 * retried) is skipped.
 */
export function archivedListing(store: WorkflowStore, reader: ArchiveReader): ArchivedListing {
  return { page: (q) => unifiedPage(store, reader, q) }
}

async function unifiedPage(store: WorkflowStore, reader: ArchiveReader, q: StoreQuery): Promise<MergedPage> {
  const skip = q.offset ?? 0
  const want = skip + q.limit
  const liveQ: StoreQuery = { ...q, labels: [...q.labels, notArchived], offset: undefined, limit: want, countRemaining: false }
  // Workflows that moved in the list order since the paging started are placed where they were then (the cache's
  // query places the live ones so; key-moves.ts), not where their rows are now: left out of the range read, in SQL,
  // so that many of them among the newest rows cost no extra reads.
  const moved = store.movedSince(q)
  const live = store.query(liveQ, moved)
  // Labelled Archived while the archive is read, a workflow of this page would come from both.
  const onPage = new Set(live.items.map((e) => e.uid))
  const shown = (uid: string) => onPage.has(uid) || shownLive(store, uid)
  let archived: PageItem[] = []
  const need = want + 1 // one more than the page: whether anything follows
  let after = q.after
  const notUids = moved?.size ? [...moved.keys()] : undefined
  let complete = false
  // Rows skipped as duplicates are rare (a workflow between its upsert and its Archived label): top up if any.
  for (;;) {
    const ask = need - archived.length
    const batch = await reader.list({ ...archiveFilterOf(q, after, ask), notUids })
    for (const row of batch) if (!shown(row.uid)) archived.push(row)
    const last = batch[batch.length - 1]
    complete = batch.length < ask
    if (complete || !last || archived.length >= need) break
    after = last
  }
  if (moved?.size) archived = await withMoved(reader, q, moved, archived, complete, shown)
  const merged: PageItem[] = []
  let i = 0
  let j = 0
  while (merged.length < want && (i < live.items.length || j < archived.length)) {
    const a = live.items[i]
    const b = archived[j]
    if (a && (!b || compareKeys(a, b) < 0)) {
      merged.push(a)
      i++
    } else if (b) {
      merged.push(b)
      j++
    }
  }
  const items = merged.slice(skip)
  const more = live.more || i < live.items.length || j < archived.length
  const page: MergedPage = { items, more }
  const last = items[items.length - 1]
  if (q.countRemaining) {
    const from = last ?? q.after
    const rest = store.query({ ...liveQ, after: from, limit: 1, countRemaining: true }, moved)
    const archivedRest = await reader.countUpTo({ ...archiveFilterOf(q, from, 0), notUids }, REMAINING_CAP)
    // Moved rows are counted where the pages place them (an estimate, as Kubernetes': some may have no row).
    const movedRest = [...moved ?? []].filter(([uid, k]) => !shown(uid) && (!from || compareKeys(k, from) > 0)).length
    // Beyond the cap the count would cost a scan of the archive: no count rather than a wrong one.
    if (archivedRest < REMAINING_CAP) page.remaining = rest.items.length + (rest.remaining ?? 0) + archivedRest + movedRest
  }
  return page
}

/**
 * The archived rows of workflows that moved since the paging started (finished, then archived; or retried), at
 * their places then and after the page's position, merged into `rows`. While rows follow those read, only the
 * moved ones that come before the last row read can be placed: the rest belong to a later page.
 */
async function withMoved(reader: ArchiveReader, q: StoreQuery, moved: ReadonlyMap<string, SortKey>, rows: PageItem[],
  complete: boolean, shown: (uid: string) => boolean): Promise<PageItem[]> {
  const after = q.after
  const bound = complete ? undefined : rows[rows.length - 1]
  const uids = [...moved].filter(([uid, k]) => !shown(uid) && (!after || compareKeys(k, after) > 0) && (!bound || compareKeys(k, bound) < 0))
    .map(([uid]) => uid)
  if (!uids.length) return rows
  const found = await reader.list({ ...archiveFilterOf(q, undefined, 0), uids })
  const placed = found.filter((row) => !shown(row.uid)).map((row) => ({ ...row, ...(moved.get(row.uid) as SortKey) }))
  return [...rows, ...placed].sort(compareKeys)
}
