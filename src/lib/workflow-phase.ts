/** Phases a workflow never leaves: upstream's `Completed()` (Succeeded, Failed, Error). */
export const COMPLETED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Error'])

/** A workflow's `status.phase`; '' when it has none (not started by the controller yet). */
export function phaseOf(wf: object): string {
  const phase = (wf as { status?: { phase?: unknown } }).status?.phase
  return typeof phase === 'string' ? phase : ''
}
