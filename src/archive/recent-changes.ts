import type { IndexEntry } from '../workflows/index.js'

const MAX_KEPT = 10_000

/**
 * Changes to archived workflows a replica saw while another led, kept for a while: the leader writes them, but one
 * that dies before it does leaves them to whoever leads next, which is up to a lease duration later. Each workflow's
 * newest version (its last state, if it was deleted meanwhile) is kept for `keptMs`, at most 10,000 of them.
 */
export class RecentChanges {
  readonly #keptMs: number
  readonly #changes = new Map<string, { entry: IndexEntry; at: number; finishing: boolean }>()

  constructor(keptMs: number) {
    this.#keptMs = keptMs
  }

  has(uid: string): boolean {
    return this.#changes.has(uid)
  }

  /** @param finishing it finished with the Archived label on (see write-item.ts): its row may not exist yet */
  add(entry: IndexEntry, finishing = false): void {
    const old = this.#changes.get(entry.uid)
    if (old && old.entry.resourceVersion > entry.resourceVersion) return
    // Re-inserted, so the map stays in the order of the last change.
    this.#changes.delete(entry.uid)
    this.#changes.set(entry.uid, { entry, at: Date.now(), finishing: finishing || old?.finishing === true })
    this.#trim()
  }

  /** The changes still within the window, oldest first; forgotten here. */
  take(): { entry: IndexEntry; finishing: boolean }[] {
    this.#trim()
    const out = [...this.#changes.values()].map(({ entry, finishing }) => ({ entry, finishing }))
    this.#changes.clear()
    return out
  }

  #trim(): void {
    const old = Date.now() - this.#keptMs
    for (const [uid, c] of this.#changes) {
      if (c.at >= old && this.#changes.size <= MAX_KEPT) break
      this.#changes.delete(uid)
    }
  }
}
