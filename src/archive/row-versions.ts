import { setTimeout as sleep } from 'node:timers/promises'
import type { ArchiveWriter } from './archive-repository.js'

const BATCH = 500

/** A live workflow's uid and version: what is compared (not the cache entry, whose JSON a long retry would pin). */
export interface Version { uid: string; resourceVersion: number }

/**
 * Finds the archived workflows (labelled Archived) changed since their rows were last written: by a change made
 * while no server ran, or one whose write was lost with the replica that saw it. Each row records the live version
 * it is current with (ArchiveWriter.current), so a newer live version is a change. A workflow without a row (deleted
 * from the archive, or expired) or with upstream's (no version) is left alone.
 */
export class RowVersions {
  readonly #writer: ArchiveWriter
  readonly #log: (msg: string) => void
  #busy = false

  constructor(writer: ArchiveWriter, log: (msg: string) => void) {
    this.#writer = writer
    this.#log = log
  }

  /**
   * Calls `changed` with the uid of each of `archived` newer than its row, one comparison at a time. A failed query
   * is retried (1 s doubling to 10 s, logged) while `active` (this replica leads): a leader elected while Postgres is
   * down compares once it is back, not a scan later.
   * @returns whether all of them were compared (not when another comparison was running, or this one was given up)
   */
  async compare(archived: Version[], changed: (uid: string) => void, active: () => boolean): Promise<boolean> {
    if (this.#busy) return false
    this.#busy = true
    let wait = 1000
    try {
      for (let i = 0; i < archived.length;) {
        if (!active()) return false
        const batch = archived.slice(i, i + BATCH)
        let versions: Map<string, number>
        try {
          versions = await this.#writer.versions(batch.map((e) => e.uid))
        } catch (err) {
          if (!active()) return false
          this.#log(`archive: cannot compare archived workflows with their rows: ${(err as Error).message}; retrying in ${wait} ms`)
          await sleep(wait, undefined, { ref: false })
          wait = Math.min(wait * 2, 10_000)
          continue
        }
        wait = 1000
        for (const e of batch) {
          const v = versions.get(e.uid)
          if (v !== undefined && v < e.resourceVersion) changed(e.uid)
        }
        i += BATCH
      }
      return true
    } finally {
      this.#busy = false
    }
  }
}
