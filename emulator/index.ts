/** The Kubernetes API emulator: a real HTTP(S) apiserver speaking the Kubernetes REST protocol. */
import { createServer as createHttpServer } from 'node:http'
import type { Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import type { AddressInfo, Socket } from 'node:net'
import { dump } from 'js-yaml'
import type { Emulator, EmulatorOptions, EmulatorUser, KubeObject, ResourceRef } from './types.js'
import type { ResourceDef } from './resources.js'
import { findResource, resourceKey } from './resources.js'
import { Store, parseJson } from './store.js'
import { Objects } from './objects.js'
import { ADMIN_USERNAME, Auth } from './rbac.js'
import { WatchHub } from './watch.js'
import { PodLogs } from './logs.js'
import { Faults } from './faults.js'
import { createRequestHandler } from './server.js'
import { generateServerCert } from './tls.js'
import { ApiError } from './status.js'

export type * from './types.js'
export { ApiError } from './status.js'

type Listener = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void

function newToken(): string {
  return randomBytes(24).toString('base64url')
}

function defOf(ref: ResourceRef): ResourceDef {
  const def = findResource(ref.group, ref.resource)
  if (!def || def.virtual) throw new ApiError(404, 'NotFound', `the server doesn't have a resource type "${ref.resource}" in group "${ref.group}"`)
  return def
}

function nsOf(def: ResourceDef, ref: ResourceRef, obj?: KubeObject): string {
  if (!def.namespaced) return ''
  const ns = ref.namespace ?? (typeof obj?.metadata.namespace === 'string' ? obj.metadata.namespace : undefined)
  if (!ns) throw new ApiError(400, 'BadRequest', `a namespace is required for ${def.resource}`)
  return ns
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1'
  const store = new Store(opts.historySize ?? 10000)
  const objects = new Objects(store)
  const auth = new Auth(store)
  const watches = new WatchHub(store, opts.bookmarkIntervalMs ?? 1000)
  const logs = new PodLogs(store)
  const faults = new Faults()
  const adminToken = newToken()
  auth.add({ token: adminToken, username: ADMIN_USERNAME, groups: ['system:masters', 'system:authenticated'], rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] })
  for (const u of opts.users ?? []) auth.add(u)
  const cert = opts.tls ? await generateServerCert() : undefined

  // Secrets of type service-account-token get a token for their service account, as the token controller does.
  objects.beforeCreate = (def, obj) => {
    if (def.group !== '' || def.resource !== 'secrets' || obj.type !== 'kubernetes.io/service-account-token') return
    const sa = obj.metadata.annotations?.['kubernetes.io/service-account.name']
    const ns = String(obj.metadata.namespace ?? '')
    if (!sa) return
    const token = newToken()
    auth.add({ token, username: `system:serviceaccount:${ns}:${sa}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'], rules: [] })
    const data: Record<string, string> = typeof obj.data === 'object' && obj.data !== null ? { ...(obj.data as Record<string, string>) } : {}
    data.token = Buffer.from(token).toString('base64')
    data.namespace = Buffer.from(ns).toString('base64')
    if (cert) data['ca.crt'] = Buffer.from(cert.caPem).toString('base64')
    obj.data = data
  }

  const subscribers = new Map<string, Set<{ namespace: string | undefined; fn: Listener }>>()
  store.onEvent((ev) => {
    const subs = subscribers.get(resourceKey(ev.res.group, ev.res.resource))
    if (!subs || subs.size === 0) return
    let obj: KubeObject | undefined
    for (const s of [...subs]) {
      if (s.namespace !== undefined && s.namespace !== ev.entry.namespace) continue
      obj ??= parseJson(ev.entry.json)
      s.fn(ev.type, obj)
    }
  })

  const nsDef = findResource('', 'namespaces') as ResourceDef
  const ensureNamespace = (ns: string): void => {
    if (!store.get(nsDef, '', ns)) objects.create(nsDef, '', { metadata: { name: ns } })
  }
  for (const ns of opts.namespaces ?? ['default']) ensureNamespace(ns)

  let url = ''
  const handler = createRequestHandler({
    objects, auth, watches, logs, faults, exactLists: opts.resourceVersionMatch ?? true, serverAddress: () => url.replace(/^https?:\/\//, ''),
  })
  const server: Server = cert ? createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, handler) : createHttpServer(handler)
  server.on('clientError', (_err, socket) => socket.destroy())
  let connections = 0
  server.on(cert ? 'secureConnection' : 'connection', () => void connections++)
  // Every socket, from its TCP accept on: closeAllConnections misses one still in its TLS handshake.
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  url = `${cert ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`

  const kubeconfig = (token = adminToken, namespace = 'default'): string => {
    const user = auth.users.get(token)?.username ?? 'emulator-user'
    const cluster: Record<string, string> = { server: url }
    if (cert) cluster['certificate-authority-data'] = Buffer.from(cert.caPem).toString('base64')
    return dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'emulator', cluster }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'emulator', context: { cluster: 'emulator', user, namespace } }],
      'current-context': 'emulator',
      preferences: {},
    })
  }

  let closed: Promise<void> | undefined
  const emulator: Emulator = {
    url,
    caPem: cert?.caPem,
    adminToken,
    kubeconfig,
    async writeKubeconfig(path, token, namespace) {
      await writeFile(path, kubeconfig(token, namespace), { mode: 0o600 })
      return path
    },
    addUser(user: EmulatorUser) {
      auth.add(user)
    },
    create(ref, obj) {
      const def = defOf(ref)
      const ns = nsOf(def, ref, obj)
      if (def.namespaced) ensureNamespace(ns)
      return objects.create(def, ns, obj)
    },
    get(ref, name) {
      const def = defOf(ref)
      const e = store.get(def, def.namespaced ? nsOf(def, ref) : '', name)
      return e ? parseJson(e.json) : undefined
    },
    list(ref) {
      const def = defOf(ref)
      return [...store.scan(def, def.namespaced ? ref.namespace : undefined)].map((e) => parseJson(e.json))
    },
    patch(ref, name, mergePatch) {
      const def = defOf(ref)
      return objects.patch(def, nsOf(def, ref), name, 'merge', mergePatch)
    },
    delete(ref, name) {
      const def = defOf(ref)
      objects.delete(def, nsOf(def, ref), name)
    },
    remove(ref, name) {
      const def = defOf(ref)
      const ns = nsOf(def, ref)
      if (store.get(def, ns, name)) objects.delete(def, ns, name, { force: true })
    },
    subscribe(ref, listener) {
      const def = defOf(ref)
      const key = resourceKey(def.group, def.resource)
      let set = subscribers.get(key)
      if (!set) {
        set = new Set()
        subscribers.set(key, set)
      }
      const sub = { namespace: def.namespaced ? ref.namespace : undefined, fn: listener }
      set.add(sub)
      return () => void set.delete(sub)
    },
    appendPodLog(namespace, pod, container, line, time) {
      logs.append(namespace, pod, container, line, time)
    },
    dropWatches: () => watches.dropAll(),
    compact: () => store.compact(),
    pause() {
      const resumeRequests = faults.pause()
      const resumeWatches = watches.pause()
      const resumeLogs = logs.pause()
      return () => {
        resumeWatches()
        resumeLogs()
        resumeRequests()
      }
    },
    fault: (rule) => faults.add(rule),
    openWatches: (path) => watches.count(path),
    requestCount: (filter) => faults.count(filter),
    connectionCount: () => connections,
    close() {
      closed ??= new Promise<void>((resolve) => {
        watches.endAll()
        server.close(() => resolve())
        server.closeAllConnections()
        for (const s of sockets) s.destroy()
      })
      return closed
    },
  }
  return emulator
}
