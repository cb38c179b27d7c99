import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator, EmulatorUser } from '../../emulator/types.js'
import { parseConfig } from '../../src/config/parse.js'
import { createServer, type Server } from '../../src/server.js'

export interface Stack {
  url: string
  emulator: Emulator
  server: Server
  /** fetch relative to the server, with `token` as Bearer unless headers say otherwise */
  req(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>
  /** req + parsed JSON body */
  json<T = Record<string, unknown>>(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<{ status: number; body: T; headers: Headers }>
}

export interface StackOptions {
  authMode?: string[]
  users?: EmulatorUser[]
  args?: string[]
  /** the token req() sends by default; default: the emulator's admin token */
  token?: string | null
  /** environment variables the server's config sees (e.g. SSO_DELEGATE_RBAC_TO_NAMESPACE) */
  env?: Record<string, string>
  /** runs against the emulator before the server starts (configmap, Secrets, ServiceAccounts) */
  before?: (emulator: Emulator) => void | Promise<void>
  /** receives the server's log lines */
  logStream?: { write(line: string): void }
}

/** A Kubernetes API emulator plus our server against it through a kubeconfig, both on ephemeral ports. */
export async function startStack(t: TestContext, opts: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-test-'))
  const emulator = await startEmulator({ namespaces: ['default', 'argo'], users: opts.users, tls: true })
  const kubeconfig = await emulator.writeKubeconfig(join(dir, 'kubeconfig'))
  const authArgs = (opts.authMode ?? ['client']).flatMap((m) => ['--auth-mode', m])
  const config = parseConfig(['--port', '0', '--secure=false', '--namespace', 'argo', '--kubeconfig', kubeconfig, '--loglevel', 'error', ...authArgs, ...(opts.args ?? [])], opts.env ?? {})
  await opts.before?.(emulator)
  const server = await createServer(config, { kind: 'file', path: kubeconfig }, { logStream: opts.logStream })
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => {
    await server.close()
    await emulator.close()
    await rm(dir, { recursive: true, force: true })
  })
  const defaultToken = opts.token === undefined ? emulator.adminToken : opts.token
  const req: Stack['req'] = (path, init = {}) => {
    const { token = defaultToken, json, ...rest } = init
    const headers = new Headers(rest.headers)
    if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`)
    if (json !== undefined) headers.set('content-type', 'application/json')
    return fetch(url + path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body })
  }
  return {
    url,
    emulator,
    server,
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
