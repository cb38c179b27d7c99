import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import Provider, { type KoaContextWithOIDC } from 'oidc-provider'

export interface IdpAccount { email?: string; name?: string; groups?: string[] }

export interface Idp {
  issuer: string
  provider: Provider
  /** registers the relying party once its callback URL is known (the server listens on an ephemeral port) */
  start(redirectUri: string): void
}

export const CLIENT_ID = 'argo-server'
export const CLIENT_SECRET = 'argo-server-secret-0123456789'

/** A real OpenID provider (panva's oidc-provider, dev login form) on loopback, for whole redirect flows. */
export async function startIdp(t: TestContext, accounts: Record<string, IdpAccount>): Promise<Idp> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  let provider: Provider | undefined
  const idp: Idp = {
    issuer,
    get provider() { return provider as Provider },
    start(redirectUri) {
      provider = new Provider(issuer, {
        clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
        conformIdTokenClaims: false,
        cookies: { keys: ['idp-test-cookie-key'] },
        pkce: { methods: ['S256'], required: () => true },
        features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
        issueRefreshToken: async () => true,
        findAccount: async (_ctx: KoaContextWithOIDC, id: string) => {
          const a = accounts[id]
          if (!a) return undefined
          return { accountId: id, claims: async () => ({ sub: id, email: a.email, email_verified: true, name: a.name, preferred_username: id, groups: a.groups }) }
        },
        // First-party client: the consent screen is granted without asking.
        loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
          const o = ctx.oidc
          const existing = o.session?.grantIdFor(o.client?.clientId ?? '')
          if (existing) return o.provider.Grant.find(existing)
          const grant = new o.provider.Grant({ clientId: o.client?.clientId, accountId: o.session?.accountId })
          grant.addOIDCScope('openid email profile groups offline_access')
          grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username', 'groups'])
          await grant.save()
          return grant
        },
      })
      provider.on('server_error', (_ctx: unknown, err: Error) => console.error('idp:', err))
      server.on('request', provider.callback())
    },
  }
  return idp
}
