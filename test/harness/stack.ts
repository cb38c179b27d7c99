import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator, EmulatorUser } from '../../emulator/types.js'
import { parseConfig } from '../../src/config/parse.js'
import { createServer, type Server } from '../../src/server.js'
import { freshDatabase } from './postgres.js'

export interface Stack {
  url: string
  emulator: Emulator
  server: Server
  /** the archive database, when StackOptions.database was given */
  databaseUrl?: string
  /** stops our server (not the emulator), as a crash or a rollout would */
  stopServer(): Promise<void>
  /** a new server process-equivalent with the same config (after stopServer, or instead of it) */
  restartServer(): Promise<void>
  /** another replica of the server against the same emulator and config (closed with the test) */
  startReplica(): Promise<Server>
  /** fetch relative to the server, with `token` as Bearer unless headers say otherwise */
  req(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>
  /** req + parsed JSON body */
  json<T = Record<string, unknown>>(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<{ status: number; body: T; headers: Headers }>
}

export interface StackOptions {
  authMode?: string[]
  users?: EmulatorUser[]
  /** the emulator's resourceVersionMatch option (false: an apiserver before 1.19) */
  resourceVersionMatch?: boolean
  args?: string[]
  /** the token req() sends by default; default: the emulator's admin token */
  token?: string | null
  /** environment variables the server's config sees (e.g. SSO_DELEGATE_RBAC_TO_NAMESPACE) */
  env?: Record<string, string>
  /** runs against the emulator before the server starts (configmap, Secrets, ServiceAccounts) */
  before?: (emulator: Emulator) => void | Promise<void>
  /** receives the server's log lines */
  logStream?: { write(line: string): void }
  /** the archive: true = a fresh database on this test process's embedded Postgres; a string = that URL */
  database?: boolean | string
  /** the emulator's watch bookmark interval (default 1 s; an apiserver sends about one a minute) */
  bookmarkIntervalMs?: number
}

/** A Kubernetes API emulator plus our server against it through a kubeconfig, both on ephemeral ports. */
export async function startStack(t: TestContext, opts: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-test-'))
  const emulator = await startEmulator({ namespaces: ['default', 'argo'], users: opts.users, tls: true, resourceVersionMatch: opts.resourceVersionMatch, bookmarkIntervalMs: opts.bookmarkIntervalMs })
  const kubeconfig = await emulator.writeKubeconfig(join(dir, 'kubeconfig'))
  const authArgs = (opts.authMode ?? ['client']).flatMap((m) => ['--auth-mode', m])
  const databaseUrl = opts.database === true ? await freshDatabase() : opts.database || undefined
  const dbArgs = databaseUrl ? ['--database-url', databaseUrl] : []
  const args = ['--port', '0', '--secure=false', '--namespace', 'argo', '--kubeconfig', kubeconfig, '--loglevel', 'error', ...authArgs, ...dbArgs, ...(opts.args ?? [])]
  let config: ReturnType<typeof parseConfig>
  try {
    config = parseConfig(args, opts.env ?? {})
  } catch (err) {
    // An open emulator would keep the test process (and the run) waiting for good.
    await emulator.close()
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  await opts.before?.(emulator)
  const start = async () => {
    const srv = await createServer(config, { kind: 'file', path: kubeconfig }, { logStream: opts.logStream })
    return { srv, address: await srv.app.listen({ port: 0, host: '127.0.0.1' }) }
  }
  const started = await start().catch(async (err: unknown) => {
    await emulator.close()
    await rm(dir, { recursive: true, force: true })
    throw err
  })
  let { srv: server, address: url } = started
  let closed = false
  t.after(async () => {
    if (!closed) await server.close()
    await emulator.close()
    await rm(dir, { recursive: true, force: true })
  })
  const defaultToken = opts.token === undefined ? emulator.adminToken : opts.token
  const req: Stack['req'] = (path, init = {}) => {
    const { token = defaultToken, json, ...rest } = init
    const headers = new Headers(rest.headers)
    if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`)
    if (json !== undefined) headers.set('content-type', 'application/json')
    return fetch(stack.url + path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body })
  }
  const stack: Stack = {
    url,
    emulator,
    server,
    databaseUrl,
    async stopServer() {
      closed = true
      await stack.server.close()
    },
    async restartServer() {
      if (!closed) await stack.server.close()
      ;({ srv: server, address: url } = await start())
      closed = false
      stack.server = server
      stack.url = url
    },
    async startReplica() {
      const { srv } = await start()
      t.after(() => srv.close())
      return srv
    },
    req,
    async json(path, init) {
      const res = await req(path, init)
      const text = await res.text()
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
      return { status: res.status, body: body as never, headers: res.headers }
    },
  }
  return stack
}

/** A minimal valid Workflow. */
export function aWorkflow(opts: { name?: string; generateName?: string; labels?: Record<string, string>; namespace?: string } = {}) {
  const metadata: Record<string, unknown> = {}
  if (opts.name) metadata.name = opts.name
  else metadata.generateName = opts.generateName ?? 'hello-'
  if (opts.labels) metadata.labels = opts.labels
  if (opts.namespace) metadata.namespace = opts.namespace
  return {
    metadata,
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command: ['echo', 'hello'] } }] },
  }
}

export const argoGroupRules = (verbs: string[], namespaces?: string[]) => [
  { verbs, apiGroups: ['argoproj.io'], resources: ['workflows'], ...(namespaces ? { namespaces } : {}) },
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] },
]

/** The stack's requests (req, json, openStream's), sent to another replica (Stack.startReplica). */
export function onReplica(s: Stack, replica: Server): Stack {
  const url = `http://127.0.0.1:${(replica.app.server.address() as AddressInfo).port}`
  const req: Stack['req'] = (path, init = {}) => {
    const headers = new Headers(init.headers)
    headers.set('authorization', `Bearer ${s.emulator.adminToken}`)
    return fetch(url + path, { ...init, headers })
  }
  return {
    ...s, url, req,
    json: async (path, init) => {
      const res = await req(path, init)
      return { status: res.status, body: await res.json() as never, headers: res.headers }
    },
  }
}
