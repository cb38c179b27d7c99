import { createHash } from 'node:crypto'
import { ApiError, TOKEN_NOT_VALID } from '../http/errors.js'
import type { KubeClient } from '../kube/client.js'
import { claimsOfToken, type Claims } from './claims.js'
import type { Identity } from './identity.js'
import { readCookies } from './sso/http.js'
import type { RequestContext, Sso } from './sso/sso.js'

const CLIENT_TTL_MS = 60_000
const MAX_CLIENTS = 1_000

/** The request's credentials, as upstream's gatekeeper reads them (spec §5.1). */
export function tokenCandidates(authorization: string | undefined, cookieHeader: string | undefined): string[] {
  if (authorization !== undefined) return [authorization]
  const cookies = readCookies(cookieHeader, 'authorization')
  return cookies.length ? cookies : ['']
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url')

/**
 * Turns a request's credentials into an Identity: client mode (`Bearer`/`Basic`, the caller's own Kubernetes
 * credentials), server mode (anything: the server's own). SSO plugs in here too.
 */
export class Gatekeeper {
  readonly #modes: ReadonlySet<string>
  readonly #server: Identity
  readonly #clients = new Map<string, { identity: Identity; expires: number }>()

  #sso: Sso | undefined

  constructor(modes: ReadonlySet<string>, serverClient: KubeClient) {
    this.#modes = modes
    const claims: Claims = claimsOfToken(serverClient.token)
    this.#server = { mode: 'server', kube: serverClient, claims, key: 'server' }
  }

  get serverIdentity(): Identity {
    return this.#server
  }

  /** SSO is attached once its Secrets are read (server.ts); until then `Bearer v2:` is not valid. */
  attachSso(sso: Sso): void {
    this.#sso = sso
  }

  /** A Kubernetes client acting with `token` (SSO RBAC runs requests with a ServiceAccount's token). */
  kubeForToken(token: string): KubeClient {
    return this.#client(`Bearer ${token}`).kube
  }

  /** @throws ApiError 401 when no mode accepts the credentials (spec §5.1); SSO may also throw 403 `not allowed` */
  async authenticate(authorization: string | undefined, cookieHeader: string | undefined, ctx?: RequestContext): Promise<Identity> {
    for (const candidate of tokenCandidates(authorization, cookieHeader)) {
      // sso first: a `Bearer v2:` value is also a `Bearer ` one (spec §5.1 step 4)
      if (this.#modes.has('sso') && candidate.startsWith('Bearer v2:')) {
        if (!this.#sso || !ctx) throw ApiError.unauthenticated(TOKEN_NOT_VALID)
        return this.#sso.authenticate(candidate, ctx)
      }
      if (this.#modes.has('client') && (candidate.startsWith('Bearer ') || candidate.startsWith('Basic '))) {
        return this.#client(candidate)
      }
      if (this.#modes.has('server')) return this.#server
    }
    throw ApiError.unauthenticated(TOKEN_NOT_VALID)
  }

  #client(header: string): Identity {
    const key = sha256(header)
    const now = Date.now()
    const hit = this.#clients.get(key)
    if (hit && hit.expires > now) return hit.identity
    let identity: Identity
    if (header.startsWith('Bearer ')) {
      const token = header.slice('Bearer '.length).trim()
      if (!token) throw ApiError.unauthenticated(TOKEN_NOT_VALID)
      identity = { mode: 'client', kube: this.#server.kube.asCaller({ token }), claims: claimsOfToken(token), key }
    } else {
      const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) throw ApiError.unauthenticated(TOKEN_NOT_VALID)
      const auth = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
      identity = { mode: 'client', kube: this.#server.kube.asCaller(auth), claims: {}, key }
    }
    if (this.#clients.size >= MAX_CLIENTS) this.#clients.delete(this.#clients.keys().next().value as string)
    this.#clients.set(key, { identity, expires: now + CLIENT_TTL_MS })
    return identity
  }
}
