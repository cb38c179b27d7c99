import { createHash } from 'node:crypto'
import https from 'node:https'
import { ServerConfiguration, createConfiguration, type KubeConfig, type RequestContext } from '@kubernetes/client-node'

/** Pooled keep-alive agents by TLS settings (CA, client certificate, verification): callers share connections. */
const agents = new Map<string, https.Agent>()
const MAX_AGENTS = 64

/**
 * The keep-alive agent for the TLS settings of `agent`. client-node 1.x builds a new https.Agent for every request,
 * so every call paid a TCP and TLS handshake (measured: archiving 36 workflows/s, two label patches each). A proxy's
 * agent (a subclass) is kept as it is. The bearer token travels in a header, so one pool serves every caller.
 */
function pooled(agent: unknown): https.Agent | undefined {
  if (!(agent instanceof https.Agent) || agent.constructor !== https.Agent) return undefined
  const o = (agent as https.Agent & { options: https.AgentOptions }).options
  // Hashed per request, not memoized: credentials from an exec plugin or a rotated file may change TLS settings.
  const h = createHash('sha256')
  for (const v of [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername]) h.update(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v ?? null)).update('\0')
  const key = h.digest('hex')
  let keep = agents.get(key)
  if (!keep) {
    // Rotated client certificates make new keys: the oldest pool goes. Its idle sockets are closed now; requests in
    // flight finish, and their sockets close when idle (timeout below).
    const oldest = agents.size >= MAX_AGENTS ? agents.keys().next().value : undefined
    if (oldest !== undefined) {
      for (const sockets of Object.values(agents.get(oldest)?.freeSockets ?? {})) for (const socket of sockets ?? []) socket.destroy()
      agents.delete(oldest)
    }
    // Idle sockets close after 30 s, before a typical load balancer or apiserver idle cut-off resets them (Node's agent
    // applies `timeout` to free sockets only; a server's Keep-Alive: timeout hint shortens it).
    keep = new https.Agent({ ...o, keepAlive: true, maxFreeSockets: 32, timeout: 30_000 })
    agents.set(key, keep)
  }
  return keep
}

/** kc.makeApiClient, with connections kept alive across requests. */
export function apiClient<T>(kc: KubeConfig, Api: new (config: ReturnType<typeof createConfiguration>) => T): T {
  const server = kc.getCurrentCluster()?.server
  if (!server) throw new Error('kubeconfig: no current cluster')
  const auth = {
    getName: () => 'kubeconfig authentication',
    async applySecurityAuthentication(ctx: RequestContext): Promise<void> {
      await kc.applySecurityAuthentication(ctx)
      const agent = pooled(ctx.getAgent())
      if (agent) ctx.setAgent(agent)
    },
  }
  return new Api(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: auth } }))
}
