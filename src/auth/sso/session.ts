import type { Claims } from '../claims.js'
import { decryptJwe, encryptJwe } from './jwe.js'

/** The session's claims: upstream's names (spec §5.2), plus `iat` and `rt` (ours; upstream ignores them). */
export interface Session extends Claims {
  iss: 'argo-server'
  exp: number
  iat: number
  /** the provider's refresh token, for silent renewal */
  rt?: string
}

export const TOKEN_PREFIX = 'v2:'
/** Browsers keep at most 4,096 bytes of name=value per cookie; leave room for the name and the quotes. */
export const COOKIE_VALUE_BUDGET = 4096 - 'authorization=""'.length

const cookieValue = (jwe: string) => `Bearer ${TOKEN_PREFIX}${jwe}`

/**
 * Encrypts a session into the `Bearer v2:` value, keeping it under the cookie budget: first everything; then
 * only the groups some RBAC rule names (`keepGroups`), since those are all a rule can test with `in`; then
 * without the refresh token (no renewal: the session simply ends at `exp`). `trimmed` says what was dropped.
 */
export function sealSession(key: Buffer, s: Session, keepGroups: (groups: string[]) => string[]): { value: string; trimmed: string[] } {
  const attempts: [Session, string[]][] = [[s, []]]
  if (s.groups?.length) attempts.push([{ ...s, groups: keepGroups(s.groups) }, ['groups']])
  const last = attempts[attempts.length - 1] as [Session, string[]]
  if (s.rt) attempts.push([{ ...last[0], rt: undefined }, [...last[1], 'refresh token']])
  let value = ''
  for (const [session, trimmed] of attempts) {
    value = cookieValue(encryptJwe(key, session))
    if (value.length <= COOKIE_VALUE_BUDGET) return { value, trimmed }
  }
  return { value, trimmed: ['everything: over budget'] }
}

/** The session in a `Bearer v2:` value if our key decrypts it, it is ours (`iss`) and not expired. */
export function openSession(key: Buffer, bearer: string, now = Date.now()): Session | undefined {
  const jwe = bearer.startsWith(`Bearer ${TOKEN_PREFIX}`) ? bearer.slice(`Bearer ${TOKEN_PREFIX}`.length).trim() : ''
  const p = jwe ? decryptJwe(key, jwe) : undefined
  if (!p || p.iss !== 'argo-server' || typeof p.exp !== 'number' || p.exp * 1000 <= now) return undefined
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined)
  return {
    iss: 'argo-server',
    exp: p.exp,
    // upstream's tokens carry no iat: treat them as fresh (no renewal before exp)
    iat: typeof p.iat === 'number' ? p.iat : Math.floor(now / 1000),
    sub: str(p.sub),
    email: str(p.email),
    email_verified: p.email_verified === true ? true : undefined,
    name: str(p.name),
    preferred_username: str(p.preferred_username),
    groups: Array.isArray(p.groups) ? p.groups.filter((g): g is string => typeof g === 'string') : undefined,
    rt: str(p.rt),
  }
}
