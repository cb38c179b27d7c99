import { randomBytes } from 'node:crypto'
import type { SortKey } from './workflow-index.js'

/** Where a client's paging started: the moves this store had recorded by its first page. */
export interface PagingStart {
  /** moves recorded before the first page */
  readonly seq: number
  /** the store that counted them: another replica's counts mean nothing here */
  readonly store: string
}

interface Move { readonly seq: number; readonly at: number; readonly uid: string; readonly before: SortKey }

const MAX_MOVES = 100_000
const MAX_AGE_MS = 15 * 60_000
/** moves a continued page places at their old keys: each costs the page a sorted entry and an archive uid */
const MAX_MOVED_PER_PAGING = 2_000

/**
 * Where workflows stood in the list order before their sort key changed: a workflow finishing moves from the
 * unfinished ones to the finished ones, a retry moves it back. A client paging with `continue` gets every workflow
 * at its place as of its first page, so one that moved between two pages is neither listed twice nor skipped, as
 * a Kubernetes list's continue keeps to its first page's version. Kept for 15 minutes (at most 100,000 moves);
 * paging that takes longer, that more than 2,000 workflows moved during, or that continues on another replica,
 * sees workflows where they are now (where a Kubernetes continue past compaction is refused with 410 instead).
 */
export class KeyMoves {
  readonly #moves: Move[] = []
  readonly #id = randomBytes(6).toString('base64url')
  #seq = 0
  /** moves up to this one were dropped */
  #forgotten = 0

  /** The start of a paging that begins now. */
  get start(): PagingStart {
    return { seq: this.#seq, store: this.#id }
  }

  record(uid: string, before: SortKey): void {
    this.#moves.push({ seq: ++this.#seq, at: Date.now(), uid, before: { group: before.group, time: before.time, uid } })
    const old = Date.now() - MAX_AGE_MS
    let drop = 0
    while (drop < this.#moves.length && (this.#moves.length - drop > MAX_MOVES || (this.#moves[drop] as Move).at < old)) drop++
    if (drop) this.#forgotten = (this.#moves.splice(0, drop).pop() as Move).seq
  }

  /**
   * The keys, as of `start`, of the workflows that moved since; undefined when that is not known here (another
   * store's paging, or moves since then were dropped): the workflows are then where they are now.
   */
  since(start: PagingStart): ReadonlyMap<string, SortKey> | undefined {
    if (start.store !== this.#id || start.seq < this.#forgotten || start.seq > this.#seq) return undefined
    if (this.#seq - start.seq > MAX_MOVED_PER_PAGING) return undefined
    const out = new Map<string, SortKey>()
    // Newest first, so a workflow that moved more than once ends with its key before the first of its moves.
    for (let i = this.#moves.length - 1; i >= 0; i--) {
      const m = this.#moves[i] as Move
      if (m.seq <= start.seq) break
      out.set(m.uid, m.before)
    }
    return out
  }
}
