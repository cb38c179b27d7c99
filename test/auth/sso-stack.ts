import { createHash } from 'node:crypto'
import type { TestContext } from 'node:test'
import { dump } from 'js-yaml'
import type { Emulator, PolicyRule } from '../../emulator/types.js'
import { openSession, sealSession, type Session } from '../../src/auth/sso/session.js'
import { Browser, type Hop } from '../harness/browser.js'
import { CLIENT_ID, CLIENT_SECRET, startIdp, type Idp, type IdpAccount } from '../harness/oidc.js'
import { startStack, type Stack } from '../harness/stack.js'

export interface ServiceAccountSpec { namespace?: string; name: string; rule: string; precedence?: number; rules: PolicyRule[] }

export interface SsoStack extends Stack {
  idp: Idp
  logs: string[]
  /** a full browser login; the jar then holds the server's cookies */
  login(user: string, redirect?: string): Promise<{ browser: Browser; hops: Hop[]; cookie: string; setCookie: string }>
  /** the session key, read from Secret `sso` as any replica would */
  key(): Buffer
  seal(s: Session): string
  open(cookie: string): Session | undefined
}

const b64 = (s: string) => Buffer.from(s).toString('base64')

/** An emulator with ServiceAccounts and an SSO configmap, a real provider, and our server in `sso` mode. */
export async function startSsoStack(t: TestContext, opts: { accounts: Record<string, IdpAccount>; serviceAccounts?: ServiceAccountSpec[]; rbac?: boolean; env?: Record<string, string>; args?: string[]; sso?: Record<string, unknown> }): Promise<SsoStack> {
  const idp = await startIdp(t, opts.accounts)
  const logs: string[] = []
  const stack = await startStack(t, {
    authMode: ['sso'],
    token: null,
    env: opts.env,
    // info: the tests read what the server logs (and check what it must not)
    args: ['--loglevel', 'info', ...(opts.args ?? [])],
    logStream: { write: (line) => void logs.push(line) },
    before: (em) => {
      const sso = {
        issuer: idp.issuer,
        clientId: { name: 'argo-server-sso', key: 'client-id' },
        clientSecret: { name: 'argo-server-sso', key: 'client-secret' },
        scopes: ['email', 'profile', 'groups', 'offline_access'],
        rbac: { enabled: opts.rbac ?? true },
        ...opts.sso,
      }
      em.create({ group: '', resource: 'configmaps', namespace: 'argo' }, { metadata: { name: 'workflow-controller-configmap' }, data: { sso: dump(sso) } })
      em.create({ group: '', resource: 'secrets', namespace: 'argo' }, { metadata: { name: 'argo-server-sso' }, data: { 'client-id': b64(CLIENT_ID), 'client-secret': b64(CLIENT_SECRET) } })
      // As Kubernetes' system:basic-user: everyone may ask what they may do.
      em.create({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }, { metadata: { name: 'basic-user' }, rules: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }] })
      em.create({ group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' }, {
        metadata: { name: 'basic-user' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'basic-user' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
      })
      for (const sa of opts.serviceAccounts ?? []) addServiceAccount(em, sa)
    },
  })
  idp.start(`${stack.url}/oauth2/callback`)
  const key = () => {
    const der = Buffer.from(String((stack.emulator.get({ group: '', resource: 'secrets', namespace: 'argo' }, 'sso')?.data as Record<string, string>).cookieEncryptionPrivateKey), 'base64')
    return createHash('sha256').update(der).digest()
  }
  return {
    ...stack,
    idp,
    logs,
    key,
    seal: (s) => sealSession(key(), s, (g) => g).value,
    open: (cookie) => openSession(key(), cookie),
    async login(user, redirect = '/workflows/argo') {
      const browser = new Browser()
      const hops = await browser.navigate(`${stack.url}/oauth2/redirect?redirect=${encodeURIComponent(redirect)}`, { user })
      const setCookie = hops.flatMap((h) => h.setCookie).find((c) => c.startsWith('authorization=') && !c.startsWith('authorization=;')) ?? ''
      const value = /^authorization=([^;]*)/.exec(setCookie)?.[1] ?? ''
      return { browser, hops, cookie: value.replace(/^"|"$/g, ''), setCookie }
    },
  }
}

/** A ServiceAccount with an RBAC rule annotation, its token Secret (minted by the emulator) and a Role + binding. */
export function addServiceAccount(em: Emulator, sa: ServiceAccountSpec): void {
  const namespace = sa.namespace ?? 'argo'
  const annotations: Record<string, string> = { 'workflows.argoproj.io/rbac-rule': sa.rule, 'workflows.argoproj.io/rbac-rule-precedence': String(sa.precedence ?? 0) }
  em.create({ group: '', resource: 'serviceaccounts', namespace }, { metadata: { name: sa.name, annotations } })
  em.create({ group: '', resource: 'secrets', namespace }, { metadata: { name: `${sa.name}.service-account-token`, annotations: { 'kubernetes.io/service-account.name': sa.name } }, type: 'kubernetes.io/service-account-token' })
  em.create({ group: 'rbac.authorization.k8s.io', resource: 'roles', namespace }, { metadata: { name: sa.name }, rules: sa.rules })
  em.create({ group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace }, {
    metadata: { name: sa.name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa.name },
    subjects: [{ kind: 'ServiceAccount', name: sa.name, namespace }],
  })
}

export const workflowRules = (verbs: string[]): PolicyRule[] => [{ verbs, apiGroups: ['argoproj.io'], resources: ['workflows'] }]

/** `authorization=<value>` as the browser would send it. */
export const sessionCookie = (value: string) => ({ cookie: `authorization="${value}"` })
