import { z } from 'zod'
import { ApiError } from '../http/errors.js'
import { goBool, int64 } from '../http/query.js'
import type { PodLogOptions } from '../kube/pod-log.js'
import { compileGrep, type LineFilter } from './grep.js'

/** Upstream's query for both log endpoints (swagger: `logOptions.*` = core/v1 PodLogOptions, `grep`, `selector`). */
const logQuery = {
  'logOptions.container': z.string().optional(),
  'logOptions.follow': goBool.optional(),
  'logOptions.previous': goBool.optional(),
  'logOptions.sinceSeconds': int64.optional(),
  'logOptions.sinceTime.seconds': int64.optional(),
  'logOptions.sinceTime.nanos': int64.optional(),
  'logOptions.timestamps': goBool.optional(),
  'logOptions.tailLines': int64.optional(),
  'logOptions.limitBytes': int64.optional(),
  'logOptions.insecureSkipTLSVerifyBackend': goBool.optional(),
  /** Stdout/Stderr/All: newer than the apiservers we target; accepted and ignored */
  'logOptions.stream': z.string().optional(),
  grep: z.string().optional(),
  selector: z.string().optional(),
}

// Loose: `fields` is not in upstream's swagger for these, yet its forwarder applies it to every chunk (spec §2.3).
export const PodLogsQuery = z.looseObject(logQuery)
export const WorkflowLogsQuery = z.looseObject({ podName: z.string().optional(), ...logQuery })
export type LogQuery = z.infer<typeof PodLogsQuery> & { podName?: string }

export const WorkflowLogsParams = z.object({ namespace: z.string(), name: z.string() })
export const PodLogsParams = z.object({ namespace: z.string(), name: z.string(), podName: z.string() })

/** io.argoproj.workflow.v1alpha1.LogEntry, the `result` of each chunk. */
export const LogEntryStream = z.object({
  result: z.object({ content: z.string().optional(), podName: z.string().optional() }).optional(),
  error: z.looseObject({}).optional(),
}).meta({ title: 'Stream result of io.argoproj.workflow.v1alpha1.LogEntry' })

export interface LogRequest {
  namespace: string
  name: string
  podName?: string
  selector?: string
  grep?: LineFilter
  follow: boolean
  /** the client asked for timestamps: content is then the whole line */
  timestamps: boolean
  /** passed through to Kubernetes; timestamps and follow are set by the streamer */
  pod: Omit<PodLogOptions, 'timestamps' | 'follow'>
}

/**
 * Validates the query into a LogRequest. Values Kubernetes would refuse are 400 here, before the stream opens:
 * upstream sends them on and logs the per-pod failure, leaving the client an empty stream.
 */
/** @param grepBudgetMs matching time the stream's grep may use (see grep.ts) */
export function toLogRequest(namespace: string, name: string, q: LogQuery, grepBudgetMs?: number): LogRequest {
  const tailLines = q['logOptions.tailLines']
  const sinceSeconds = q['logOptions.sinceSeconds']
  const limitBytes = q['logOptions.limitBytes']
  const sinceSecs = q['logOptions.sinceTime.seconds']
  if (tailLines !== undefined && tailLines < 0) throw ApiError.invalidArgument(`logOptions.tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`)
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw ApiError.invalidArgument(`logOptions.sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`)
  if (limitBytes !== undefined && limitBytes < 1) throw ApiError.invalidArgument(`logOptions.limitBytes: Invalid value: ${limitBytes}: must be greater than 0`)
  if (sinceSeconds !== undefined && sinceSecs !== undefined) throw ApiError.invalidArgument('at most one of `sinceTime` or `sinceSeconds` may be specified')
  // metav1.Time travels in whole seconds (RFC 3339): upstream's nanos are dropped on the way to Kubernetes too
  const sinceTime = sinceSecs === undefined ? undefined : rfc3339Seconds(sinceSecs)
  return {
    namespace,
    name,
    podName: q.podName || undefined,
    selector: q.selector || undefined,
    grep: compileGrep(q.grep, grepBudgetMs),
    follow: q['logOptions.follow'] === true,
    timestamps: q['logOptions.timestamps'] === true,
    pod: {
      container: q['logOptions.container'] || 'main',
      previous: q['logOptions.previous'],
      sinceSeconds,
      sinceTime,
      tailLines,
      limitBytes,
      insecureSkipTLSVerifyBackend: q['logOptions.insecureSkipTLSVerifyBackend'],
    },
  }
}

function rfc3339Seconds(seconds: number): string {
  const d = new Date(seconds * 1000)
  if (Number.isNaN(d.getTime())) throw ApiError.invalidArgument(`logOptions.sinceTime.seconds: out of range: ${seconds}`)
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
