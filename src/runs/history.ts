import type { Identity } from '../auth/index.js'
import { instanceIdRequirement } from '../lib/instance-id.js'
import { validateLabelValue } from '../lib/label-selector.js'
import { ARCHIVING_STATUS } from '../lib/workflow-labels.js'
import { encodeContinue, listDenied, pageOf, parseListRequest, type ListDeps, type PageItem } from '../workflows/index.js'
import { runSummary, type Run, type RunSummary } from './stats.js'

export type OwnerKind = 'WorkflowTemplate' | 'ClusterWorkflowTemplate' | 'CronWorkflow'

/** How the controller links a run to what started it (asserted in upstream's e2e). */
export const OWNER_LABELS: Record<OwnerKind, string> = {
  WorkflowTemplate: 'workflows.argoproj.io/workflow-template',
  ClusterWorkflowTemplate: 'workflows.argoproj.io/cluster-workflow-template',
  CronWorkflow: 'workflows.argoproj.io/cron-workflow',
}

export const DEFAULT_PAGE = 50
export const DEFAULT_SUMMARY_RUNS = 100
export const MAX_SUMMARY_RUNS = 1_000

/** Runs are listed as ListWorkflows lists: the same store, access review and archive. */
export type HistoryDeps = ListDeps

export interface HistoryRequest {
  kind: OwnerKind
  /** the owner's namespace; for a ClusterWorkflowTemplate, the runs' namespace filter ('' = every namespace) */
  namespace: string
  name: string
  limit?: number
  continue?: string
  /** summary over the newest N runs, on the first page only; 0 = none */
  summaryRuns?: number
}

export interface History {
  metadata: { continue?: string }
  owner: { kind: OwnerKind; namespace?: string; name: string }
  items: Run[]
  summary?: RunSummary
}

type Wf = {
  metadata?: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string; labels?: Record<string, string> }
  spec?: { arguments?: { parameters?: { name?: unknown; value?: unknown }[] } }
  status?: { phase?: string; message?: string; startedAt?: string; finishedAt?: string }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)

export function toRun(item: PageItem): Run {
  const wf = JSON.parse(typeof item.json === 'string' ? item.json : item.json.toString('utf8')) as Wf
  const md = wf.metadata ?? {}
  const st = wf.status ?? {}
  const startedAt = str(st.startedAt)
  const finishedAt = str(st.finishedAt)
  const run: Run = {
    name: md.name ?? '', namespace: md.namespace ?? '', uid: md.uid ?? '', phase: st.phase ?? '',
    message: str(st.message), createdAt: str(md.creationTimestamp), startedAt, finishedAt,
    parameters: (wf.spec?.arguments?.parameters ?? []).map((p) => ({ name: String(p.name ?? ''), ...(p.value !== undefined ? { value: String(p.value) } : {}) })),
    archived: md.labels?.[ARCHIVING_STATUS] === 'Persisted',
  }
  if (startedAt && finishedAt) run.durationSeconds = Math.max(0, (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000)
  return run
}

/**
 * The runs of one WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow, live and archived as one sequence
 * (the unified ListWorkflows: running runs first, newest created first, then finished runs newest finished
 * first), keyset-paged, so a page costs O(page) whatever the history's length (lessons §4: upstream's cron
 * history was one unbounded list and ran the server out of memory).
 */
export async function runHistory(d: HistoryDeps, identity: Identity, r: HistoryRequest): Promise<History> {
  const parsed = parseListRequest({ namespace: r.namespace, limit: r.limit ?? DEFAULT_PAGE, continue: r.continue }, instanceIdRequirement(d.instanceId))
  // The owner as a requirement, not a selector string: a name is never parsed as selector syntax.
  const q = { ...parsed, labels: [...parsed.labels, { key: OWNER_LABELS[r.kind], operator: '=' as const, values: [r.name] }] }
  await d.access.require(identity, { verb: 'list', group: 'argoproj.io', resource: 'workflows', namespace: q.namespace }, listDenied(q.namespace))
  await d.ready()
  // A name that cannot be a label value (e.g. over 63 characters) labels no workflow: it has no runs.
  const page = validateLabelValue(r.name).length ? { items: [], more: false } : await pageOf(d, q)
  const last = page.items[page.items.length - 1]
  const history: History = {
    metadata: page.more && last ? { continue: encodeContinue(last) } : {},
    owner: { kind: r.kind, ...(r.kind === 'ClusterWorkflowTemplate' && !r.namespace ? {} : { namespace: r.namespace }), name: r.name },
    items: page.items.map(toRun),
  }
  const n = Math.min(r.summaryRuns ?? DEFAULT_SUMMARY_RUNS, MAX_SUMMARY_RUNS)
  if (!r.continue && n > 0) {
    // The first page's items are the newest runs: only the rest of the N is read.
    const first = history.items.slice(0, n)
    const rest = first.length < n && page.more && last ? (await pageOf(d, { ...q, after: last, offset: undefined, limit: n - first.length })).items.map(toRun) : []
    history.summary = runSummary([...first, ...rest], n)
  }
  return history
}
