/**
 * A small browser for redirect flows: a cookie jar per host (Path, Max-Age/Expires honoured), manual redirects,
 * and form posts. Enough for login pages; deterministic, no Chromium.
 */
interface Cookie { value: string; path: string }

export interface Hop { url: string; status: number; location: string | null; setCookie: string[] }

export class Browser {
  readonly jar = new Map<string, Map<string, Cookie>>()
  /** rewrites a URL before fetching it (e.g. a configured redirect host to the real server) */
  constructor(private readonly resolve: (url: URL) => URL = (u) => u) {}

  cookies(host: string): Map<string, Cookie> {
    let m = this.jar.get(host)
    if (!m) this.jar.set(host, (m = new Map()))
    return m
  }

  cookieHeader(url: URL): string {
    return [...this.cookies(url.host)].filter(([, c]) => url.pathname.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`).join('; ')
  }

  #store(url: URL, setCookies: string[]): void {
    for (const sc of setCookies) {
      const [pair = '', ...attrs] = sc.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const a = new Map(attrs.map((x) => [x.split('=')[0]?.toLowerCase() ?? '', x.slice(x.indexOf('=') + 1)]))
      const path = a.get('path') ?? url.pathname.replace(/\/[^/]*$/, '/')
      const expired = a.get('max-age') === '0' || (a.has('expires') && Date.parse(a.get('expires') as string) < Date.now())
      if (expired) this.cookies(url.host).delete(name)
      else this.cookies(url.host).set(name, { value: pair.slice(eq + 1), path })
    }
  }

  /** One request, no redirect following; cookies stored. */
  async fetch(href: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ res: Response; hop: Hop; text: string }> {
    const url = this.resolve(new URL(href))
    const headers: Record<string, string> = { ...init.headers }
    const cookie = this.cookieHeader(url)
    if (cookie) headers.cookie = cookie
    const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual' })
    const setCookie = res.headers.getSetCookie()
    this.#store(url, setCookie)
    const text = await res.text()
    const location = res.headers.get('location')
    return { res, text, hop: { url: url.href, status: res.status, location: location && new URL(location, url).href, setCookie } }
  }

  /** Follows redirects from `href`; posts a login form when one appears. Returns every hop. */
  async navigate(href: string, login?: { user: string }, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Hop[]> {
    const hops: Hop[] = []
    let next: { href: string; method?: string; body?: string; headers?: Record<string, string> } | undefined = { href, ...init }
    for (let i = 0; next && i < 30; i++) {
      const { hop, text } = await this.fetch(next.href, next)
      hops.push(hop)
      next = undefined
      if (hop.location) next = { href: hop.location }
      else if (hop.status === 200 && /<form/i.test(text) && login) next = formPost(hop.url, text, login.user)
    }
    return hops
  }
}

function formPost(pageUrl: string, html: string, user: string) {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) throw new Error(`no form on ${pageUrl}`)
  const fields = new URLSearchParams()
  for (const m of (form[2] as string).matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1]
    if (!name) continue
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? ''
    fields.set(name, name === 'login' ? user : name === 'password' ? 'any-password' : value)
  }
  return { href: new URL(form[1] as string, pageUrl).href, method: 'POST', body: fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }
}
