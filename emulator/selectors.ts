/** Field selectors (k8s.io/apimachinery/pkg/fields) and the per-resource fields they may use. */
import type { KubeObject } from './types.js'
import type { ResourceDef } from './resources.js'
import { ApiError } from './status.js'
import type { Requirement } from '../src/lib/label-selector.js'
import { matchesLabels, parseLabelSelector, LabelSelectorError } from '../src/lib/label-selector.js'
import { FieldSelectorError, matchesFields as matchFields, parseFieldSelector as parseFields, type FieldRequirement } from '../src/lib/field-selector.js'

export type { FieldRequirement }

const EXTRA_FIELDS: Record<string, string[]> = {
  '/pods': ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  '/events': ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  '/secrets': ['type'],
  '/namespaces': ['status.phase'],
}

function extraFields(res: ResourceDef): string[] {
  return EXTRA_FIELDS[`${res.group}/${res.resource}`] ?? []
}

function lookup(obj: unknown, path: string): unknown {
  let cur = obj
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}

/** The selectable field values of an object (metadata.name/namespace are read from the entry itself). */
export function extractFields(res: ResourceDef, obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of extraFields(res)) {
    let v = f === 'source' ? lookup(obj, 'source.component') ?? lookup(obj, 'reportingComponent') : lookup(obj, f)
    if (f === 'spec.hostNetwork') v = v === true ? 'true' : 'false'
    out[f] = v === undefined || v === null ? '' : String(v)
  }
  return out
}

export function parseFieldSelector(res: ResourceDef, s: string): FieldRequirement[] {
  try {
    // A cluster-scoped custom resource has no metadata.namespace field (apiextensions-apiserver
    // pkg/apiserver/conversion/converter.go, crConverter.ConvertFieldLabel).
    const namespaceField = res.namespaced || res.group !== 'argoproj.io' ? ['metadata.namespace'] : []
    return parseFields(s, new Set(['metadata.name', ...namespaceField, ...extraFields(res)]))
  } catch (e) {
    if (e instanceof FieldSelectorError) throw new ApiError(400, 'BadRequest', e.message)
    throw e
  }
}

export interface FieldSource {
  name: string
  namespace: string
  fields: Record<string, string>
}

export function matchesFields(reqs: FieldRequirement[], e: FieldSource): boolean {
  return matchFields(reqs, (f) => (f === 'metadata.name' ? e.name : f === 'metadata.namespace' ? e.namespace : e.fields[f] ?? ''))
}

/** Parsed label + field selectors of a list/watch request. */
export interface Selector {
  labels: Requirement[]
  fields: FieldRequirement[]
}

export function parseSelector(res: ResourceDef, labelSelector: string | null, fieldSelector: string | null): Selector {
  let labels: Requirement[] = []
  try {
    labels = parseLabelSelector(labelSelector ?? '')
  } catch (err) {
    if (err instanceof LabelSelectorError) throw new ApiError(400, 'BadRequest', err.message)
    throw err
  }
  return { labels, fields: parseFieldSelector(res, fieldSelector ?? '') }
}

export function matches(sel: Selector, e: FieldSource & { labels: Record<string, string> | undefined }): boolean {
  return matchesLabels(sel.labels, e.labels) && matchesFields(sel.fields, e)
}

export function isEmptySelector(sel: Selector): boolean {
  return sel.labels.length === 0 && sel.fields.length === 0
}

/** The name an equality field selector pins, if any: watches on one object are indexed by it. */
export function pinnedName(sel: Selector): string | undefined {
  return sel.fields.find((f) => f.field === 'metadata.name' && f.op === '=')?.value
}
