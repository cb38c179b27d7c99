import * as client from 'openid-client'
import type { SsoSettings } from '../../config/sso.js'
import { tlsFetch } from './tls-fetch.js'

/** What a login or a renewal yields. */
export interface ProviderTokens {
  claims: Record<string, unknown>
  /** undefined when the response had no source of groups (a refresh without id_token): keep the old ones */
  groups: string[] | undefined
  refreshToken?: string
  idToken?: string
}

/** seconds of clock difference tolerated on the provider's `iat`/`exp`/`nbf` */
const CLOCK_TOLERANCE_S = 60

/**
 * The provider, through openid-client (style §12, its examples/oidc.ts): discovery once (retried until it
 * succeeds), code flow with PKCE, state and nonce, refresh, RP-initiated logout. openid-client caches the JWKS
 * per Configuration and refetches it on an unknown `kid`.
 */
export class OidcProvider {
  readonly #s: SsoSettings
  readonly #clientId: string
  readonly #clientSecret: string
  #config: Promise<client.Configuration> | undefined

  constructor(settings: SsoSettings, clientId: string, clientSecret: string) {
    this.#s = settings
    this.#clientId = clientId
    this.#clientSecret = clientSecret
  }

  #configuration(): Promise<client.Configuration> {
    this.#config ??= this.#discover().catch((err: unknown) => {
      this.#config = undefined
      throw err
    })
    return this.#config
  }

  /** Discovery at `issuer`; the document's issuer must be `issuerAlias` when set, else `issuer` (spec §5.3). */
  async #discover(): Promise<client.Configuration> {
    const fetchImpl = this.#s.rootCA || this.#s.insecureSkipVerify ? tlsFetch({ ca: this.#s.rootCA, insecureSkipVerify: this.#s.insecureSkipVerify }) : fetch
    const base = this.#s.issuer.replace(/\/$/, '')
    const res = await fetchImpl(`${base}/.well-known/openid-configuration`, { headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`OIDC discovery at ${base}: HTTP ${res.status}`)
    const doc = (await res.json()) as client.ServerMetadata
    const expected = (this.#s.issuerAlias || this.#s.issuer).replace(/\/$/, '')
    if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== expected) {
      throw new Error(`OIDC discovery: issuer "${String(doc.issuer)}" is not "${expected}" (set sso.issuerAlias?)`)
    }
    const methods = doc.token_endpoint_auth_methods_supported
    const auth = !methods || methods.includes('client_secret_basic') ? client.ClientSecretBasic(this.#clientSecret) : client.ClientSecretPost(this.#clientSecret)
    const config = new client.Configuration(doc, this.#clientId, { client_secret: this.#clientSecret, [client.clockTolerance]: CLOCK_TOLERANCE_S }, auth)
    if (fetchImpl !== fetch) config[client.customFetch] = fetchImpl as client.CustomFetch
    if (new URL(doc.issuer).protocol === 'http:') client.allowInsecureRequests(config)
    return config
  }

  async authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeVerifier: string }): Promise<URL> {
    const config = await this.#configuration()
    const scopes = ['openid', ...this.#s.scopes.filter((s) => s !== 'openid')]
    return client.buildAuthorizationUrl(config, {
      redirect_uri: p.redirectUri,
      scope: scopes.join(' '),
      state: p.state,
      nonce: p.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(p.codeVerifier),
      code_challenge_method: 'S256',
    })
  }

  /** @throws when the provider refuses the code or the id_token does not verify */
  async exchange(callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string }): Promise<ProviderTokens> {
    const config = await this.#configuration()
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier, expectedNonce: checks.nonce, expectedState: checks.state, idTokenExpected: true,
    })
    return this.#tokens(config, tokens)
  }

  /** @throws client.ResponseBodyError (`error` = invalid_grant when the provider revoked it) or a network error */
  async refresh(refreshToken: string): Promise<ProviderTokens> {
    const config = await this.#configuration()
    const tokens = await client.refreshTokenGrant(config, refreshToken)
    return this.#tokens(config, tokens, refreshToken)
  }

  /** The provider's end-session URL (RP-initiated logout), when it has one. */
  async endSessionUrl(idToken: string | undefined): Promise<URL | undefined> {
    const config = await this.#configuration()
    if (!config.serverMetadata().end_session_endpoint) return undefined
    return client.buildEndSessionUrl(config, { client_id: this.#clientId, ...(idToken ? { id_token_hint: idToken } : {}) })
  }

  async #tokens(config: client.Configuration, t: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, oldRefresh?: string): Promise<ProviderTokens> {
    const claims: Record<string, unknown> = { ...(t.claims() ?? {}) }
    const groupClaim = this.#s.customGroupClaimName || 'groups'
    let groups = t.id_token ? strings(claims[groupClaim]) : undefined
    if (this.#s.userInfoPath) {
      // Upstream: GET <issuer><userInfoPath> with the access token; the custom claim name applies here too (aw#15803).
      const url = new URL(this.#s.issuer.replace(/\/$/, '') + this.#s.userInfoPath)
      const res = await client.fetchProtectedResource(config, t.access_token, url, 'GET')
      if (!res.ok) throw new Error(`userinfo ${url.pathname}: HTTP ${res.status}`)
      groups = strings(((await res.json()) as Record<string, unknown>)[groupClaim])
    }
    const filters = this.#s.filterGroupsRegex
    if (groups && filters.length) groups = groups.filter((g) => filters.some((re) => re.test(g)))
    return { claims, groups, refreshToken: t.refresh_token ?? oldRefresh, idToken: t.id_token }
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}
