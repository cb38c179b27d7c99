/** The meta.k8s.io/v1 Table rendering that `kubectl get` asks for (NAME and AGE columns, like a CRD without printer columns). */
import type { Entry } from './store.js'
import { parseJson } from './store.js'

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept)
}

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < -1) return '<invalid>'
  if (s < 0) return '0s'
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  if (m < 180) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`
  if (h < 48) return `${h}h`
  const d = Math.floor(h / 24)
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`
  if (h < 24 * 365 * 2) return `${d}d`
  const y = Math.floor(d / 365)
  if (y < 8) return `${y}y${d % 365}d`
  return `${y}y`
}

export function tableJson(entries: Entry[], listMeta: Record<string, unknown>, includeObject: string | null): string {
  const now = Date.now()
  const rows = entries.map((e) => {
    const obj = parseJson(e.json)
    const created = typeof obj.metadata.creationTimestamp === 'string' ? Date.parse(obj.metadata.creationTimestamp) : NaN
    const row: Record<string, unknown> = { cells: [e.name, Number.isNaN(created) ? '<unknown>' : humanDuration(now - created)] }
    if (includeObject === 'Object') row.object = obj
    else if (includeObject !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }
    return row
  })
  return JSON.stringify({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
    ],
    rows,
  })
}
