/** One run as the history lists it. */
export interface Run {
  name: string
  namespace: string
  uid: string
  phase: string
  message?: string
  createdAt?: string
  startedAt?: string
  finishedAt?: string
  /** finishedAt − startedAt, once finished */
  durationSeconds?: number
  parameters: { name: string; value?: string }[]
  /** true when this run is read from the archive (its live object is gone or archived) */
  archived: boolean
}

export interface RunSummary {
  /** the N asked for, and how many runs there were among them */
  window: number
  runs: number
  running: number
  finished: number
  succeeded: number
  failed: number
  /** succeeded / finished (Failed and Error count as failures); absent with no finished run */
  successRate?: number
  /** over finished runs, nearest-rank percentiles */
  durationSeconds?: { p50: number; p95: number; max: number }
}

const FAILED = new Set(['Failed', 'Error'])

function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

/** Success rate and duration percentiles over the newest runs (running ones counted, not rated). */
export function runSummary(runs: Run[], window: number): RunSummary {
  const finished = runs.filter((r) => r.finishedAt)
  const succeeded = finished.filter((r) => r.phase === 'Succeeded').length
  const failed = finished.filter((r) => FAILED.has(r.phase)).length
  const durations = finished.flatMap((r) => (r.durationSeconds !== undefined ? [r.durationSeconds] : [])).sort((a, b) => a - b)
  const s: RunSummary = { window, runs: runs.length, running: runs.length - finished.length, finished: finished.length, succeeded, failed }
  if (finished.length) s.successRate = succeeded / finished.length
  if (durations.length) s.durationSeconds = { p50: nearestRank(durations, 50), p95: nearestRank(durations, 95), max: durations[durations.length - 1] as number }
  return s
}
