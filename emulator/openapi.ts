/**
 * Minimal OpenAPI v3 documents. kubectl reads them only to learn that PATCH accepts `fieldValidation`
 * (then it validates server-side and never downloads schemas); without them `kubectl create -f` fails.
 */
import { RESOURCES, gvString } from './resources.js'

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`
}

export function openapiRoot(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {}
  for (const r of RESOURCES) {
    const p = gvPath(r.group, r.version)
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=emulator` }
  }
  return { paths }
}

/** The document of one group-version (path like `apis/argoproj.io/v1alpha1`), or undefined. */
export function openapiGroupVersion(path: string): unknown | undefined {
  const defs = RESOURCES.filter((r) => gvPath(r.group, r.version) === path)
  if (defs.length === 0) return undefined
  const paths: Record<string, unknown> = {}
  const fieldValidation = { name: 'fieldValidation', in: 'query', description: 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.', schema: { type: 'string', uniqueItems: true } }
  for (const r of defs) {
    if (r.virtual) continue
    const gvk = { group: r.group, version: r.version, kind: r.kind }
    const base = `/${gvPath(r.group, r.version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`
    const op = (action: string): Record<string, unknown> => ({
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: [fieldValidation],
      responses: { 200: { description: 'OK' } },
    })
    paths[base] = { post: op('post') }
    paths[`${base}/{name}`] = { put: op('put'), patch: op('patch') }
  }
  const first = defs[0]
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: first ? gvString(first.group, first.version) : 'v1' },
    paths,
  }
}
