/** HTTP routing: request accounting, fault injection, authentication, discovery, then resource handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Faults } from './faults.js'
import type { HandlerCtx, ResourceRequest } from './handlers.js'
import { handleResource } from './handlers.js'
import { boolParam, sendError, sendJson } from './http.js'
import type { ResourceDef } from './resources.js'
import { apiGroup, apiGroupList, apiResourceList, apiVersions, findResourceInGV, hasGroupVersion, VERSION_INFO } from './resources.js'
import { errors, genericError } from './status.js'
import { openapiGroupVersion, openapiRoot } from './openapi.js'

export interface ServerCtx extends HandlerCtx {
  faults: Faults
  serverAddress: () => string
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function verbOf(method: string, name: string, watch: boolean): string {
  switch (method) {
    case 'GET': return watch ? 'watch' : name ? 'get' : 'list'
    case 'POST': return 'create'
    case 'PUT': return 'update'
    case 'PATCH': return 'patch'
    case 'DELETE': return name ? 'delete' : 'deletecollection'
    default: return method.toLowerCase()
  }
}

interface Parsed {
  def: ResourceDef
  namespace: string
  name: string
  sub: string
}

/** Splits /api/v1/... or /apis/g/v/... after the group-version into resource, namespace, name, subresource. */
function parseResourcePath(group: string, version: string, seg: string[]): Parsed | undefined {
  if (seg[0] === 'namespaces' && seg.length >= 3) {
    const def = findResourceInGV(group, version, seg[2] as string)
    if (def?.namespaced) {
      if (seg.length > 5) return undefined
      return { def, namespace: seg[1] as string, name: seg[3] ?? '', sub: seg[4] ?? '' }
    }
  }
  const def = findResourceInGV(group, version, seg[0] ?? '')
  if (!def || seg.length > 3) return undefined
  const name = seg[1] ?? ''
  // a named namespaced object needs its namespace in the path
  if (def.namespaced && name) return undefined
  return { def, namespace: '', name, sub: seg[2] ?? '' }
}

export function createRequestHandler(ctx: ServerCtx): (req: IncomingMessage, resp: ServerResponse) => void {
  return (req, resp) => {
    resp.on('error', () => {})
    req.on('error', () => {})
    handle(ctx, req, resp).catch((err: unknown) => sendError(resp, err))
  }
}

async function handle(ctx: ServerCtx, req: IncomingMessage, resp: ServerResponse): Promise<void> {
  if (ctx.faults.paused) await ctx.faults.paused
  const method = (req.method ?? 'GET').toUpperCase()
  let url: URL
  try {
    url = new URL(req.url ?? '/', 'http://emulator')
  } catch {
    throw errors.badRequest('malformed request URL')
  }
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
  const q = url.searchParams
  const watch = boolParam(q, 'watch')
  const info = { method, path, watch, query: url.search.slice(1) }
  ctx.faults.record(info)
  const fault = ctx.faults.take(info)
  if (fault) {
    if (fault.delayMs) await sleep(fault.delayMs)
    if (fault.status) throw genericError(fault.status)
    if (fault.reset) {
      resp.socket?.destroy()
      return
    }
    if (fault.hang || fault.cut) {
      resp.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
      resp.flushHeaders()
      if (fault.cut) setImmediate(() => resp.socket?.destroy())
      return
    }
    if (fault.lagMs) lag(resp, fault.lagMs)
    if (fault.bytesPerSecond) trickle(resp, fault.bytesPerSecond)
  }
  const user = ctx.auth.authenticate(req.headers.authorization)
  if (!user) throw errors.unauthorized()

  let seg: string[]
  try {
    seg = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s))
  } catch {
    throw errors.notFoundPath()
  }
  if (method === 'GET') {
    if (path === '/version') return sendJson(resp, 200, VERSION_INFO)
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      resp.writeHead(200, { 'Content-Type': 'text/plain' })
      return void resp.end('ok')
    }
    if (path === '/openapi/v3') return sendJson(resp, 200, openapiRoot())
    if (seg[0] === 'openapi' && seg[1] === 'v3') {
      const doc = openapiGroupVersion(seg.slice(2).join('/'))
      if (doc) return sendJson(resp, 200, doc)
    }
    if (path === '/api') return sendJson(resp, 200, apiVersions(ctx.serverAddress()))
    if (path === '/apis') return sendJson(resp, 200, apiGroupList())
    if (seg[0] === 'api' && seg.length === 2) {
      const doc = apiResourceList('', seg[1] as string)
      if (doc) return sendJson(resp, 200, doc)
    }
    if (seg[0] === 'apis' && seg.length === 2) {
      const doc = apiGroup(seg[1] as string)
      if (doc) return sendJson(resp, 200, doc)
    }
    if (seg[0] === 'apis' && seg.length === 3) {
      const doc = apiResourceList(seg[1] as string, seg[2] as string)
      if (doc) return sendJson(resp, 200, doc)
    }
  }
  let group: string
  let version: string
  let rest: string[]
  if (seg[0] === 'api' && seg[1] === 'v1' && seg.length > 2) {
    group = ''
    version = 'v1'
    rest = seg.slice(2)
  } else if (seg[0] === 'apis' && seg.length > 3 && hasGroupVersion(seg[1] as string, seg[2] as string)) {
    group = seg[1] as string
    version = seg[2] as string
    rest = seg.slice(3)
  } else {
    throw errors.notFoundPath()
  }
  const parsed = parseResourcePath(group, version, rest)
  if (!parsed) throw errors.notFoundPath()
  const { def, namespace, name, sub } = parsed
  if (sub && !def.subresources.includes(sub)) throw errors.notFoundPath()
  if (sub === 'log' && method !== 'GET') throw errors.methodNotAllowed(method.toLowerCase())
  const verb = verbOf(method, name, watch)
  if ((verb === 'update' || verb === 'patch') && !name) throw errors.methodNotAllowed(verb)
  if (verb === 'create' && name) throw errors.methodNotAllowed(verb)
  if (!def.verbs.includes(verb)) throw errors.methodNotAllowed(verb)
  const attrs = { verb, group, resource: def.resource, subresource: sub, name, namespace }
  if (!def.virtual && !ctx.auth.allowed(user, attrs)) throw ctx.auth.forbidden(user, attrs)
  const r: ResourceRequest = { def, namespace, name, sub, verb, path, query: q, user }
  await handleResource(ctx, r, req, resp)
}

/** Writes (and the end) of `resp` go out `ms` later, in order: the client sees every byte late, none lost. */
function lag(resp: ServerResponse, ms: number): void {
  const write = resp.write.bind(resp) as (chunk: string | Buffer) => boolean
  const end = resp.end.bind(resp) as (chunk?: string | Buffer) => ServerResponse
  const later = (fn: () => void) => setTimeout(() => { if (!resp.destroyed) fn() }, ms)
  resp.write = ((chunk: string | Buffer) => (later(() => write(chunk)), true)) as ServerResponse['write']
  resp.end = ((chunk?: string | Buffer) => (later(() => end(chunk)), resp)) as ServerResponse['end']
}

/** The body of `resp` goes out at `rate` bytes per second, a piece every 50 ms, in order; the end after the last. */
function trickle(resp: ServerResponse, rate: number): void {
  const write = resp.write.bind(resp) as (chunk: Buffer) => boolean
  const end = resp.end.bind(resp) as () => ServerResponse
  const queue: Buffer[] = []
  let ending = false
  const piece = Math.max(1, Math.round(rate / 20))
  const timer = setInterval(() => {
    if (resp.destroyed) return clearInterval(timer)
    let left = piece
    while (left > 0 && queue.length) {
      const head = queue[0] as Buffer
      const part = head.subarray(0, left)
      write(part)
      left -= part.length
      if (part.length === head.length) queue.shift()
      else queue[0] = head.subarray(part.length)
    }
    if (!queue.length && ending) {
      clearInterval(timer)
      end()
    }
  }, 50)
  resp.write = ((chunk: string | Buffer) => (queue.push(Buffer.from(chunk)), true)) as ServerResponse['write']
  resp.end = ((chunk?: string | Buffer) => {
    if (chunk) queue.push(Buffer.from(chunk))
    ending = true
    return resp
  }) as ServerResponse['end']
}
