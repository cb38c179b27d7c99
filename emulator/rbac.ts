/** Authentication (bearer tokens) and authorization (the users' own rules plus stored RBAC objects). */
import type { EmulatorUser, PolicyRule } from './types.js'
import type { Store } from './store.js'
import { parseJson } from './store.js'
import { findResource } from './resources.js'
import type { ApiError } from './status.js'
import { errors } from './status.js'

export interface Attributes {
  verb: string
  group: string
  resource: string
  subresource: string
  name: string
  namespace: string // '' = cluster scope
}

export const ADMIN_USERNAME = 'kubernetes-admin'

function ruleMatches(rule: PolicyRule, a: Attributes): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(a.verb)) return false
  if (!rule.apiGroups.includes('*') && !rule.apiGroups.includes(a.group)) return false
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const resOk = rule.resources.some((r) => r === '*' || r === full || (a.subresource !== '' && (r === `${a.resource}/*` || r === `*/${a.subresource}`)))
  if (!resOk) return false
  if (rule.resourceNames && rule.resourceNames.length > 0 && !rule.resourceNames.includes(a.name)) return false
  if (rule.namespaces !== undefined && (a.namespace === '' || !(rule.namespaces.includes(a.namespace) || rule.namespaces.includes('*')))) return false
  return true
}

interface Subject { kind?: unknown; name?: unknown; namespace?: unknown }

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

export class Auth {
  readonly users = new Map<string, EmulatorUser>()

  constructor(private readonly store: Store) {}

  add(user: EmulatorUser): void {
    this.users.set(user.token, user)
  }

  /** The user of an Authorization header, or undefined (then the request gets 401). */
  authenticate(header: string | undefined): EmulatorUser | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
    return m ? this.users.get(m[1] as string) : undefined
  }

  groupsOf(user: EmulatorUser): string[] {
    const g = user.groups ?? []
    return g.includes('system:authenticated') ? g : [...g, 'system:authenticated']
  }

  allowed(user: EmulatorUser, a: Attributes): boolean {
    if (user.groups?.includes('system:masters')) return true
    if (user.rules.some((r) => ruleMatches(r, a))) return true
    return this.#rbacAllows(user, a)
  }

  forbidden(user: EmulatorUser, a: Attributes): ApiError {
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
    const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'
    const why = `User "${user.username}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${where}`
    return errors.forbidden(a.group, a.resource, a.name || undefined, why)
  }

  #subjectMatches(user: EmulatorUser, s: Subject, bindingNs: string): boolean {
    if (typeof s.name !== 'string') return false
    if (s.kind === 'User') return s.name === user.username
    if (s.kind === 'Group') return this.groupsOf(user).includes(s.name)
    if (s.kind === 'ServiceAccount') {
      const ns = typeof s.namespace === 'string' && s.namespace ? s.namespace : bindingNs
      return user.username === `system:serviceaccount:${ns}:${s.name}`
    }
    return false
  }

  #rolesRules(kind: unknown, name: unknown, namespace: string): PolicyRule[] {
    if (typeof name !== 'string') return []
    const res = findResource('rbac.authorization.k8s.io', kind === 'Role' ? 'roles' : 'clusterroles')
    if (!res) return []
    const e = this.store.get(res, kind === 'Role' ? namespace : '', name)
    if (!e) return []
    const rules = parseJson(e.json).rules
    if (!Array.isArray(rules)) return []
    return rules.map((r: unknown) => {
      const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>
      return { verbs: strings(o.verbs), apiGroups: strings(o.apiGroups), resources: strings(o.resources), resourceNames: strings(o.resourceNames) }
    })
  }

  /** RoleBindings in the request's namespace and all ClusterRoleBindings, as the RBAC authorizer. */
  #rbacAllows(user: EmulatorUser, a: Attributes): boolean {
    const crb = findResource('rbac.authorization.k8s.io', 'clusterrolebindings')
    const rb = findResource('rbac.authorization.k8s.io', 'rolebindings')
    if (!crb || !rb) return false
    const check = (json: string, ns: string): boolean => {
      const b = parseJson(json)
      const subjects = Array.isArray(b.subjects) ? (b.subjects as Subject[]) : []
      if (!subjects.some((s) => typeof s === 'object' && s !== null && this.#subjectMatches(user, s, ns))) return false
      const ref = (typeof b.roleRef === 'object' && b.roleRef !== null ? b.roleRef : {}) as Record<string, unknown>
      return this.#rolesRules(ref.kind, ref.name, ns).some((r) => ruleMatches(r, a))
    }
    for (const e of this.store.scan(crb, undefined)) if (check(e.json, '')) return true
    if (a.namespace) for (const e of this.store.scan(rb, a.namespace)) if (check(e.json, a.namespace)) return true
    return false
  }
}
