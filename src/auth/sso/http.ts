/** Cookie and redirect helpers for the /oauth2 routes. */

export interface CookieOptions {
  path: string
  secure: boolean
  httpOnly: boolean
  sameSite: 'Strict' | 'Lax'
  /** absent: a session cookie; 0: delete */
  maxAgeS?: number
}

export function setCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${o.path}`]
  if (o.maxAgeS !== undefined) {
    parts.push(`Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}`)
    parts.push(`Expires=${new Date(o.maxAgeS > 0 ? Date.now() + o.maxAgeS * 1000 : 0).toUTCString()}`)
  }
  if (o.httpOnly) parts.push('HttpOnly')
  if (o.secure) parts.push('Secure')
  parts.push(`SameSite=${o.sameSite}`)
  return parts.join('; ')
}

/**
 * Every cookie called `name`, in order. Go quotes cookie values that hold a space: the quotes are stripped, but
 * nothing is URL-decoded (spec §5.1).
 */
export function readCookies(header: string | undefined, name: string): string[] {
  const out: string[] = []
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const v = part.slice(eq + 1).trim()
    out.push(v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v)
  }
  return out
}

/** The first cookie called `name`, or undefined. */
export const readCookie = (header: string | undefined, name: string): string | undefined => readCookies(header, name)[0]

/**
 * The final redirect after login: only a path-absolute URL under `baseHref`, else `baseHref` itself (spec §5.3,
 * §8 open redirect aw#6211, aw#13747). Stricter than upstream's regex: no `//`, no backslash, no scheme, no
 * control characters or whitespace, and no dot segments or encoded slashes that a browser or proxy could
 * turn into any of these.
 */
export function safeRedirect(target: string | undefined, baseHref: string): string {
  if (!target || !target.startsWith('/') || target.startsWith('//')) return baseHref
  if (/[\\\s\u0000-\u001f\u007f]/.test(target)) return baseHref
  let decoded: string
  try {
    decoded = decodeURIComponent(target)
  } catch {
    return baseHref
  }
  if (decoded.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(decoded) || /(^|\/)\.\.?(\/|$|[?#])/.test(decoded)) return baseHref
  let url: URL
  try {
    url = new URL(target, 'http://base.invalid')
  } catch {
    return baseHref
  }
  if (url.origin !== 'http://base.invalid') return baseHref
  const path = url.pathname + url.search + url.hash
  return path === target && (path.startsWith(baseHref) || `${path}/` === baseHref) ? target : baseHref
}
