// Narrowing helpers and path building shared by the schema and semantic checks.
import { isRecord, type Rec } from '../records.js'

export type ArgoKind = 'Workflow' | 'WorkflowTemplate' | 'ClusterWorkflowTemplate' | 'CronWorkflow'

export interface Problem {
  path: string
  message: string
}

export { isRecord as isRec, type Rec } from '../records.js'

/** `v` when it is a JSON object, else undefined (a problem to report, unlike records.ts's recordOrEmpty). */
export function rec(v: unknown): Rec | undefined {
  return isRecord(v) ? v : undefined
}

export function arr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** Present in the Go sense: a non-nil pointer/slice after json.Unmarshal. */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/

/** Appends an object key or array index to a dotted path ('a.b[0].c', 'labels["x.io/y"]'). */
export function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  if (!PLAIN_KEY.test(key)) return `${base}[${JSON.stringify(key)}]`
  return base === '' ? key : `${base}.${key}`
}

export class Problems {
  readonly list: Problem[] = []
  private readonly seen = new Set<string>()

  add(path: string, message: string): void {
    const key = `${path}\u0000${message}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.list.push({ path, message })
  }
}
