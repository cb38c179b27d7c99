/** What the server knows of a caller, in upstream's claim names (server/auth/types). */
export interface Claims {
  iss?: string
  sub?: string
  groups?: string[]
  email?: string
  email_verified?: boolean
  name?: string
  preferred_username?: string
  service_account_name?: string
  service_account_namespace?: string
}

/**
 * Client mode: the claims are the JWT payload decoded **unverified** (Kubernetes verifies the token itself on
 * every call); a non-JWT token gives no claims (spec §5.2, server/auth/serviceaccount/claims.go).
 */
export function claimsOfToken(token: string | undefined): Claims {
  const parts = token?.split('.')
  if (!parts || parts.length !== 3) return {}
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'))
  } catch {
    return {}
  }
  if (typeof payload !== 'object' || payload === null) return {}
  const p = payload as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined)
  const claims: Claims = {
    iss: str(p.iss),
    sub: str(p.sub),
    email: str(p.email),
    name: str(p.name),
    preferred_username: str(p.preferred_username),
    email_verified: p.email_verified === true || p.email_verified === 'true' ? true : undefined,
    groups: Array.isArray(p.groups) ? p.groups.filter((g): g is string => typeof g === 'string') : undefined,
  }
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub ?? '')
  if (sa) {
    claims.service_account_namespace = sa[1]
    claims.service_account_name = sa[2]
  }
  return claims
}
