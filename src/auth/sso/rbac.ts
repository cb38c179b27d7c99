import { ApiError } from '../../http/errors.js'
import type { KubeClient } from '../../kube/client.js'
import { compileRule, ruleLiterals, type Value } from './expr.js'

const RULE = 'workflows.argoproj.io/rbac-rule'
const PRECEDENCE = 'workflows.argoproj.io/rbac-rule-precedence'
const TOKEN_SECRET = 'workflows.argoproj.io/service-account-token.name'
/** how long a namespace's ServiceAccounts and a token are reused: rule edits apply within this */
const TTL_MS = 10_000
const MAX_ENTRIES = 1_000

interface Candidate { name: string; namespace: string; precedence: number; rule: string; matches: (c: Record<string, Value>) => boolean; secret: string }
export interface Account { name: string; namespace: string; token: string }

type Log = (msg: string) => void

/**
 * SSO RBAC (spec §5.4): ServiceAccounts annotated with a rule over the claims, the highest precedence wins and
 * the request runs with its token. Reads go through a short-TTL cache (one list per namespace per TTL), so the
 * server needs list on serviceaccounts and get on their token secrets, like upstream's informer.
 */
export class SsoRbac {
  readonly #kube: KubeClient
  readonly #ssoNamespace: string
  readonly #delegate: boolean
  readonly #log: Log
  readonly #accounts = new Map<string, { expires: number; value: Promise<Candidate[]> }>()
  readonly #tokens = new Map<string, { expires: number; value: Promise<string> }>()

  constructor(opts: { kube: KubeClient; ssoNamespace: string; delegate: boolean; log: Log }) {
    this.#kube = opts.kube
    this.#ssoNamespace = opts.ssoNamespace
    this.#delegate = opts.delegate
    this.#log = opts.log
  }

  /**
   * The account a request runs as. Delegation (SSO_DELEGATE_RBAC_TO_NAMESPACE, not namespaced, another
   * namespace) lets the request namespace's match win when no login account matched or it has strictly higher
   * precedence — including the "no login account" case that crashed upstream (GHSA-p4gq-3vxj-f4jq).
   * @throws ApiError 403 `not allowed` when nothing matches
   */
  async resolve(claims: Record<string, Value>, requestNamespace: string | undefined): Promise<Account> {
    let best = await this.#match(this.#ssoNamespace, claims)
    if (this.#delegate && requestNamespace && requestNamespace !== this.#ssoNamespace) {
      const delegated = await this.#match(requestNamespace, claims)
      if (delegated && (!best || delegated.precedence > best.precedence)) best = delegated
    }
    if (!best) throw ApiError.permissionDenied('not allowed')
    return { name: best.name, namespace: best.namespace, token: await this.#token(best) }
  }

  /** Every string literal of the login namespace's rules (what a cookie must keep of a long group list). */
  async literals(): Promise<Set<string>> {
    const out = new Set<string>()
    for (const c of await this.#candidates(this.#ssoNamespace)) for (const l of ruleLiterals(c.rule)) out.add(l)
    return out
  }

  async #match(namespace: string, claims: Record<string, Value>): Promise<Candidate | undefined> {
    for (const c of await this.#candidates(namespace)) if (c.matches(claims)) return c
    return undefined
  }

  #candidates(namespace: string): Promise<Candidate[]> {
    return this.#cached(this.#accounts, namespace, async () => {
      let accounts: Awaited<ReturnType<KubeClient['listServiceAccounts']>>
      try {
        accounts = await this.#kube.listServiceAccounts(namespace)
      } catch (err) {
        // A namespace the server may not read (or that does not exist) has no rules; the login namespace's failure is the server's.
        if (namespace === this.#ssoNamespace) throw ApiError.unavailable(`cannot list service accounts in ${namespace}: ${(err as Error).message}`)
        return []
      }
      const out: Candidate[] = []
      for (const sa of accounts) {
        const rule = sa.annotations[RULE]
        if (rule === undefined) continue
        try {
          const precedence = Number.parseInt(sa.annotations[PRECEDENCE] ?? '0', 10)
          const secret = sa.secrets[0] ?? sa.annotations[TOKEN_SECRET] ?? `${sa.name}.service-account-token`
          out.push({ name: sa.name, namespace, precedence: Number.isFinite(precedence) ? precedence : 0, rule, matches: compileRule(rule), secret })
        } catch (err) {
          this.#log(`ignoring ServiceAccount ${namespace}/${sa.name}: bad ${RULE}: ${(err as Error).message}`)
        }
      }
      // Higher precedence first; ties by name, so the choice is stable (upstream: arbitrary).
      return out.sort((a, b) => b.precedence - a.precedence || a.name.localeCompare(b.name))
    })
  }

  #token(c: Candidate): Promise<string> {
    return this.#cached(this.#tokens, `${c.namespace}/${c.secret}`, async () => {
      const data = await this.#kube.getSecret(c.namespace, c.secret)
      const token = data?.token?.toString('utf8')
      if (!token) throw ApiError.permissionDenied(`service account ${c.namespace}/${c.name} has no token secret`)
      return token
    })
  }

  #cached<T>(map: Map<string, { expires: number; value: Promise<T> }>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now()
    const hit = map.get(key)
    if (hit && hit.expires > now) return hit.value
    const value = load()
    // request namespaces come from the caller: bound the map
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string)
    map.set(key, { expires: now + TTL_MS, value })
    // failures are not cached
    value.catch(() => { if (map.get(key)?.value === value) map.delete(key) })
    return value
  }
}
