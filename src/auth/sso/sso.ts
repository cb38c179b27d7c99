import { createHash } from 'node:crypto'
import * as client from 'openid-client'
import type { SsoSettings } from '../../config/sso.js'
import { ApiError, TOKEN_NOT_VALID } from '../../http/errors.js'
import type { KubeClient } from '../../kube/client.js'
import type { Identity } from '../identity.js'
import type { Value } from './expr.js'
import { readCookie, safeRedirect, setCookie, type CookieOptions } from './http.js'
import { decryptJwe, encryptJwe } from './jwe.js'
import { loadSessionKey } from './key.js'
import { OidcProvider, type ProviderTokens } from './oidc.js'
import { SsoRbac } from './rbac.js'
import { openSession, sealSession, type Session } from './session.js'

export const SESSION_COOKIE = 'authorization'
/** the raw id_token, for `id_token_hint` at logout; only sent to /oauth2/ so API requests stay small */
export const ID_TOKEN_COOKIE = 'argo-id-token'
const STATE_COOKIE = (state: string) => `argo-oauth2-${state}`
const LOGIN_TTL_S = 180
/** a renewal's outcome is reused this long, so parallel requests do not spend a rotating refresh token twice */
const RENEWAL_REUSE_MS = 60_000

export interface SsoOptions {
  settings: SsoSettings
  installNamespace: string
  ssoNamespace: string
  baseHref: string
  delegate: boolean
  kube: KubeClient
  clientFor: (token: string) => KubeClient
  log: { info(msg: string): void; warn(msg: string): void }
}

export interface RequestContext {
  namespace?: string
  secure: boolean
  setCookie(value: string): void
}

const sha = (s: string) => createHash('sha256').update(s).digest('base64url')
const nowS = () => Math.floor(Date.now() / 1000)

/** SSO: login through the provider, the `Bearer v2:` session, its renewal and logout, and RBAC (spec §5.2–5.4). */
export class Sso {
  readonly #o: SsoOptions
  readonly #key: Buffer
  readonly #provider: OidcProvider
  readonly #rbac: SsoRbac | undefined
  readonly #renewals = new Map<string, { at: number; result: Promise<{ session: Session; idToken?: string }> }>()

  private constructor(o: SsoOptions, key: Buffer, provider: OidcProvider) {
    this.#o = o
    this.#key = key
    this.#provider = provider
    this.#rbac = o.settings.rbac.enabled ? new SsoRbac({ kube: o.kube, ssoNamespace: o.ssoNamespace, delegate: o.delegate, log: (m) => o.log.warn(m) }) : undefined
  }

  /** Reads the client credentials and the session key (creating Secret `sso` if absent). @throws when a Secret is missing */
  static async create(o: SsoOptions): Promise<Sso> {
    const read = async (ref: { name: string; key: string }) => {
      const v = (await o.kube.getSecret(o.installNamespace, ref.name))?.[ref.key]?.toString('utf8').trim()
      if (!v) throw new Error(`sso: secret ${o.installNamespace}/${ref.name} has no key ${ref.key}`)
      return v
    }
    const provider = new OidcProvider(o.settings, await read(o.settings.clientId), await read(o.settings.clientSecret))
    return new Sso(o, await loadSessionKey(o.kube, o.installNamespace), provider)
  }

  #cookie(ctx: { secure: boolean }, extra: Partial<CookieOptions>): CookieOptions {
    return { path: this.#o.baseHref, secure: ctx.secure, httpOnly: true, sameSite: 'Strict', ...extra }
  }

  /** A `Bearer v2:` credential → the caller. @throws ApiError 401 for anything not a live session of ours; 403 `not allowed` */
  async authenticate(bearer: string, ctx: RequestContext): Promise<Identity> {
    let session = openSession(this.#key, bearer)
    if (!session) throw ApiError.unauthenticated(TOKEN_NOT_VALID)
    if (session.rt && nowS() >= session.iat + (session.exp - session.iat) / 2) session = await this.#renew(session, ctx)
    const { rt: _rt, iat: _iat, ...claims } = session
    if (!this.#rbac) {
      this.#o.log.info(`sso: ${claims.sub ?? '?'} acts with the server's service account (rbac disabled)`)
      return { mode: 'sso', kube: this.#o.kube, claims, key: 'server' }
    }
    const account = await this.#rbac.resolve(claims as Record<string, Value>, ctx.namespace)
    return {
      mode: 'sso',
      kube: this.#o.clientFor(account.token),
      claims: { ...claims, service_account_name: account.name, service_account_namespace: account.namespace },
      key: `sso:${sha(account.token)}`,
    }
  }

  /** Silent renewal (beyond upstream): past half its life a session with a refresh token is renewed at the provider. */
  async #renew(old: Session, ctx: RequestContext): Promise<Session> {
    const id = sha(old.rt as string)
    const now = Date.now()
    for (const [k, v] of this.#renewals) if (now - v.at > RENEWAL_REUSE_MS) this.#renewals.delete(k)
    let hit = this.#renewals.get(id)
    if (!hit) {
      hit = { at: now, result: this.#provider.refresh(old.rt as string).then((t) => ({ session: this.#session(t, old), idToken: t.idToken })) }
      this.#renewals.set(id, hit)
    }
    try {
      const { session: fresh, idToken } = await hit.result
      for (const c of await this.#sessionCookies(fresh, idToken, ctx)) ctx.setCookie(c)
      return fresh
    } catch (err) {
      if (err instanceof client.ResponseBodyError && err.error === 'invalid_grant') {
        // The provider ended the grant (logout, revoked, disabled user): so do we.
        ctx.setCookie(setCookie(SESSION_COOKIE, '', this.#cookie(ctx, { maxAgeS: 0 })))
        throw ApiError.unauthenticated(TOKEN_NOT_VALID)
      }
      // The provider is unreachable or failing: keep the session until its own expiry.
      this.#o.log.warn(`sso: renewal failed for ${old.sub ?? '?'}: ${err instanceof Error ? err.message : String(err)}`)
      return old
    }
  }

  /** The session minted from the provider's answer; on renewal, what the answer lacks is kept from `prev`. */
  #session(t: ProviderTokens, prev?: Session): Session {
    const str = (k: string) => (typeof t.claims[k] === 'string' && t.claims[k] ? (t.claims[k] as string) : undefined)
    const sub = str('sub') ?? prev?.sub
    if (prev && sub !== prev.sub) throw new Error('renewal returned another subject')
    const iat = nowS()
    return {
      iss: 'argo-server',
      sub,
      iat,
      exp: iat + Math.floor(this.#o.settings.sessionExpiry / 1000),
      email: str('email') ?? prev?.email,
      email_verified: t.claims.email_verified === true || t.claims.email_verified === 'true' ? true : t.claims.email_verified === undefined ? prev?.email_verified : undefined,
      name: str('name') ?? prev?.name,
      preferred_username: str('preferred_username') ?? prev?.preferred_username,
      groups: t.groups ?? prev?.groups,
      rt: t.refreshToken,
    }
  }

  /** The session cookie, and the id_token cookie when the provider gave one that fits (else logout names only client_id). */
  async #sessionCookies(s: Session, idToken: string | undefined, ctx: { secure: boolean }): Promise<string[]> {
    const maxAgeS = s.exp - nowS()
    const out = [setCookie(SESSION_COOKIE, `"${await this.#seal(s)}"`, this.#cookie(ctx, { maxAgeS }))]
    const idt = idToken ? encryptJwe(this.#key, { t: idToken, exp: s.exp }) : ''
    if (idt && idt.length < 4000) out.push(setCookie(ID_TOKEN_COOKIE, idt, this.#cookie(ctx, { path: `${this.#o.baseHref}oauth2/`, maxAgeS })))
    return out
  }

  async #seal(s: Session): Promise<string> {
    const literals = this.#rbac ? await this.#rbac.literals() : new Set<string>()
    const { value, trimmed } = sealSession(this.#key, s, (groups) => groups.filter((g) => literals.has(g)))
    if (trimmed.length) this.#o.log.warn(`sso: session of ${s.sub ?? '?'} over 4 KB: kept only the ${trimmed.join(' and ')} that fit`)
    return value
  }

  /** GET /oauth2/redirect: the state cookie and the provider's authorization URL (spec §5.3, plus PKCE and nonce). */
  async begin(redirect: string | undefined, redirectUri: string, ctx: { secure: boolean }): Promise<{ location: string; cookie: string }> {
    const state = client.randomState()
    const login = { r: safeRedirect(redirect, this.#o.baseHref), v: client.randomPKCECodeVerifier(), n: client.randomNonce(), u: redirectUri, exp: nowS() + LOGIN_TTL_S }
    const url = await this.#provider.authorizationUrl({ redirectUri, state, nonce: login.n, codeVerifier: login.v })
    const cookie = setCookie(STATE_COOKIE(state), encryptJwe(this.#key, login), this.#cookie(ctx, { sameSite: 'Lax', maxAgeS: LOGIN_TTL_S }))
    return { location: url.href, cookie }
  }

  /** GET /oauth2/callback. @throws ApiError 400 without a (live) state cookie, 401 when the provider's answer does not verify */
  async finish(query: URLSearchParams, cookieHeader: string | undefined, ctx: { secure: boolean }): Promise<{ location: string; cookies: string[] }> {
    const state = query.get('state') ?? ''
    const raw = /^[\w-]{1,128}$/.test(state) ? readCookie(cookieHeader, STATE_COOKIE(state)) : undefined
    const login = raw ? decryptJwe(this.#key, raw) : undefined
    if (!login || typeof login.exp !== 'number' || login.exp < nowS()) throw ApiError.invalidArgument('invalid state')
    const cookies = [setCookie(STATE_COOKIE(state), '', this.#cookie(ctx, { sameSite: 'Lax', maxAgeS: 0 }))]
    const callbackUrl = new URL(String(login.u))
    callbackUrl.search = query.toString()
    let tokens: ProviderTokens
    try {
      tokens = await this.#provider.exchange(callbackUrl, { state, nonce: String(login.n), codeVerifier: String(login.v) })
    } catch (err) {
      // The error names the failed check, never a token or the code (CHANGELOG acfb73a39).
      this.#o.log.warn(`sso: login failed: ${err instanceof Error ? err.message : String(err)}`)
      throw ApiError.unauthenticated('login failed')
    }
    cookies.push(...await this.#sessionCookies(this.#session(tokens), tokens.idToken, ctx))
    return { location: safeRedirect(String(login.r), this.#o.baseHref), cookies }
  }

  /** POST /oauth2/logout: both cookies cleared; the provider's end-session URL with id_token_hint when it has one. */
  async logout(cookieHeader: string | undefined, ctx: { secure: boolean }): Promise<{ location: string | undefined; cookies: string[] }> {
    const raw = readCookie(cookieHeader, ID_TOKEN_COOKIE)
    const p = raw ? decryptJwe(this.#key, raw) : undefined
    const idToken = typeof p?.t === 'string' ? p.t : undefined
    const cookies = [
      setCookie(SESSION_COOKIE, '', this.#cookie(ctx, { maxAgeS: 0 })),
      setCookie(ID_TOKEN_COOKIE, '', this.#cookie(ctx, { path: `${this.#o.baseHref}oauth2/`, maxAgeS: 0 })),
    ]
    let url: URL | undefined
    try {
      url = await this.#provider.endSessionUrl(idToken)
    } catch (err) {
      this.#o.log.warn(`sso: no provider logout: ${err instanceof Error ? err.message : String(err)}`)
    }
    return { location: url?.href, cookies }
  }
}
