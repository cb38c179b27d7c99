/** Handlers for resource requests: get, list, watch, create, update, patch, delete, pods/log and the reviews. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EmulatorUser } from './types.js'
import type { ResourceDef } from './resources.js'
import type { Objects, PatchType } from './objects.js'
import { isObject } from './objects.js'
import type { Auth, Attributes } from './rbac.js'
import type { WatchHub } from './watch.js'
import type { PodLogs } from './logs.js'
import { exactVersion, listEntries, listJson } from './list.js'
import { parseSelector } from './selectors.js'
import { tableJson, wantsTable } from './table.js'
import { boolParam, parseBody, readBody, sendJson, sendJsonChunks } from './http.js'
import { ApiError, errors } from './status.js'

export interface ResourceRequest {
  def: ResourceDef
  namespace: string // '' for cluster-scoped or all namespaces
  name: string
  sub: string
  verb: string
  path: string
  query: URLSearchParams
  user: EmulatorUser
}

export interface HandlerCtx {
  objects: Objects
  auth: Auth
  watches: WatchHub
  logs: PodLogs
  /** lists serve resourceVersionMatch=Exact (EmulatorOptions.resourceVersionMatch) */
  exactLists: boolean
}

const DISCOVERY_PATHS = /^\/(api|apis|version|healthz|livez|readyz|openapi)(\/.*)?$/

const PATCH_TYPES: Record<string, PatchType> = {
  'application/apply-patch+yaml': 'apply', 'application/json-patch+json': 'json', 'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
}

/** The patch type of a content type the resource accepts: custom resources take no strategic merge (no schema of it). */
function patchTypeOf(def: ResourceDef, ct: string | undefined): PatchType {
  const accepted = Object.keys(PATCH_TYPES).filter((t) => !(def.group === 'argoproj.io' && PATCH_TYPES[t] === 'strategic'))
  const t = (ct ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const type = accepted.includes(t) ? PATCH_TYPES[t] : undefined
  if (!type) throw errors.unsupportedMediaType(accepted)
  return type
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  if (!/^\d+$/.test(v)) throw errors.badRequest(`${name}: Invalid value: "${v}": must be a non-negative integer`)
  return Number(v)
}

function dryRun(q: URLSearchParams, body?: unknown): boolean {
  if (q.getAll('dryRun').includes('All')) return true
  return isObject(body) && Array.isArray(body.dryRun) && body.dryRun.includes('All')
}

export async function handleResource(ctx: HandlerCtx, r: ResourceRequest, req: IncomingMessage, resp: ServerResponse): Promise<void> {
  const { objects } = ctx
  const { def, namespace, name, query: q } = r
  if (def.group === 'authorization.k8s.io') return selfSubjectAccessReview(ctx, r, await readJson(req), resp)
  if (def.group === 'authentication.k8s.io') return selfSubjectReview(ctx, r, await readJson(req), resp)

  switch (r.verb) {
    case 'get': {
      const e = objects.getEntry(def, namespace, name)
      if (r.sub === 'log') return ctx.logs.serve(e, q, resp)
      if (wantsTable(req.headers.accept)) return sendJson(resp, 200, tableJson([e], { resourceVersion: String(e.rv) }, q.get('includeObject')))
      return sendJson(resp, 200, e.json)
    }
    case 'list': {
      const sel = parseSelector(def, q.get('labelSelector'), q.get('fieldSelector'))
      const limit = intParam(q, 'limit')
      const exact = ctx.exactLists ? exactVersion(q, objects.store, limit) : undefined
      const result = listEntries(objects.store, def, namespace || undefined, sel, limit, q.get('continue') ?? undefined, exact)
      if (wantsTable(req.headers.accept)) {
        const meta: Record<string, unknown> = { resourceVersion: String(result.rv) }
        if (result.continue) meta.continue = result.continue
        return sendJson(resp, 200, tableJson(result.entries, meta, q.get('includeObject')))
      }
      return sendJsonChunks(resp, 200, listJson(def, result))
    }
    case 'watch': {
      let fieldSelector = q.get('fieldSelector')
      if (name) fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${name}` : `metadata.name=${name}`
      const sel = parseSelector(def, q.get('labelSelector'), fieldSelector)
      return ctx.watches.serve({
        res: def, namespace, sel, path: r.path,
        resourceVersion: q.get('resourceVersion'),
        bookmarks: boolParam(q, 'allowWatchBookmarks'),
        timeoutSeconds: intParam(q, 'timeoutSeconds'),
      }, resp)
    }
    case 'create': {
      const body = await readJson(req)
      if (r.sub) throw errors.methodNotAllowed('post')
      return sendJson(resp, 201, objects.create(def, namespace, body, { dryRun: dryRun(q) }))
    }
    case 'update': {
      const body = await readJson(req)
      return sendJson(resp, 200, objects.update(def, namespace, name, body, { dryRun: dryRun(q), subresource: r.sub }))
    }
    case 'patch': {
      const type = patchTypeOf(def, req.headers['content-type'])
      const body = parseBody(await readBody(req), type === 'apply' ? 'application/yaml' : 'application/json')
      if (type !== 'json' && !isObject(body)) throw errors.badRequest('the patch must be a JSON object')
      if (type === 'apply' && isObject(body) && !objects.store.get(def, namespace, name)) {
        // server-side apply of a new object creates it (field ownership is not tracked)
        const metadata = isObject(body.metadata) ? { ...body.metadata, name } : { name }
        return sendJson(resp, 201, objects.create(def, namespace, { ...body, metadata }, { dryRun: dryRun(q) }))
      }
      return sendJson(resp, 200, objects.patch(def, namespace, name, type, body, { dryRun: dryRun(q), subresource: r.sub }))
    }
    case 'delete': {
      const body = await readJson(req)
      const pre = isObject(body) && isObject(body.preconditions) ? body.preconditions : {}
      checkPropagationPolicy(q.get('propagationPolicy') ?? (isObject(body) ? body.propagationPolicy : undefined))
      const { obj, gone } = objects.delete(def, namespace, name, {
        dryRun: dryRun(q, body),
        preconditions: { uid: typeof pre.uid === 'string' ? pre.uid : undefined, resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined },
      })
      if (gone && !def.returnDeletedObject) {
        const details: Record<string, unknown> = { name }
        if (def.group) details.group = def.group
        details.kind = def.resource
        details.uid = obj.metadata.uid
        return sendJson(resp, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details })
      }
      return sendJson(resp, 200, obj)
    }
    case 'deletecollection': {
      const body = await readJson(req)
      const sel = parseSelector(def, q.get('labelSelector'), q.get('fieldSelector'))
      const result = listEntries(objects.store, def, namespace || undefined, sel)
      const items = result.entries.map((e) => objects.delete(def, e.namespace, e.name, { dryRun: dryRun(q, body) }).obj)
      return sendJson(resp, 200, { kind: `${def.kind}List`, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, metadata: { resourceVersion: String(objects.store.rv) }, items })
    }
    default:
      throw errors.methodNotAllowed(r.verb)
  }
}

/**
 * DeleteOptions.propagationPolicy as ValidateDeleteOptions checks it (apimachinery/pkg/apis/meta/v1/validation):
 * 422 for a value that is not a policy. The policies themselves are not emulated (no garbage collector: every
 * delete is as Background).
 */
function checkPropagationPolicy(policy: unknown): void {
  if (policy === undefined || policy === null || policy === '' || ['Foreground', 'Background', 'Orphan'].includes(String(policy))) return
  const cause = `Unsupported value: ${JSON.stringify(String(policy))}: supported values: "Foreground", "Background", "Orphan", "nil"`
  throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: ${cause}`,
    { group: 'meta.k8s.io', kind: 'DeleteOptions', causes: [{ reason: 'FieldValueNotSupported', message: cause, field: 'propagationPolicy' }] })
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  return parseBody(await readBody(req), req.headers['content-type'])
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k]
  return typeof v === 'string' ? v : ''
}

function selfSubjectAccessReview(ctx: HandlerCtx, r: ResourceRequest, body: unknown, resp: ServerResponse): void {
  if (r.verb !== 'create') throw errors.methodNotAllowed(r.verb)
  if (!isObject(body) || !isObject(body.spec)) throw errors.invalid(r.def.group, r.def.kind, '', [{ field: 'spec', message: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }])
  const spec = body.spec
  let allowed = false
  if (isObject(spec.resourceAttributes)) {
    const ra = spec.resourceAttributes
    const a: Attributes = { verb: str(ra, 'verb'), group: str(ra, 'group'), resource: str(ra, 'resource'), subresource: str(ra, 'subresource'), name: str(ra, 'name'), namespace: str(ra, 'namespace') }
    allowed = ctx.auth.allowed(r.user, a)
  } else if (isObject(spec.nonResourceAttributes)) {
    const path = str(spec.nonResourceAttributes, 'path')
    const verb = str(spec.nonResourceAttributes, 'verb')
    allowed = (r.user.groups ?? []).includes('system:masters') || (verb === 'get' && DISCOVERY_PATHS.test(path))
  } else {
    throw errors.invalid(r.def.group, r.def.kind, '', [{ field: 'spec', message: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }])
  }
  const status: Record<string, unknown> = { allowed }
  if (allowed) status.reason = `allowed by the emulator's rules for user "${r.user.username}"`
  sendJson(resp, 201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status })
}

function selfSubjectReview(ctx: HandlerCtx, r: ResourceRequest, _body: unknown, resp: ServerResponse): void {
  if (r.verb !== 'create') throw errors.methodNotAllowed(r.verb)
  sendJson(resp, 201, {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    status: { userInfo: { username: r.user.username, groups: ctx.auth.groupsOf(r.user) } },
  })
}
