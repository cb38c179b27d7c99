import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { call, wf, WF_PATH } from './helpers.js'

let emu: Emulator
const SA = 'system:serviceaccount:argo:sa'
before(async () => {
  emu = await startEmulator({
    namespaces: ['argo', 'other'],
    users: [{
      token: 'reader-token',
      username: SA,
      rules: [
        { verbs: ['get', 'list', 'watch'], apiGroups: ['argoproj.io'], resources: ['workflows'], namespaces: ['argo'] },
        { verbs: ['get'], apiGroups: [''], resources: ['pods/log'], namespaces: ['argo'] },
        { verbs: ['update'], apiGroups: ['argoproj.io'], resources: ['workflows'], resourceNames: ['only-me'] },
      ],
    }],
  })
})
after(() => emu.close())

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }

test('missing or unknown token → 401 Unauthorized, on discovery too', async () => {
  for (const token of [null, 'bogus']) {
    const r = await call(emu, 'GET', WF_PATH, { token })
    assert.equal(r.status, 401)
    assert.deepEqual(r.json, UNAUTHORIZED)
  }
  assert.equal((await call(emu, 'GET', '/apis', { token: null })).status, 401)
})

test('discovery and /version are allowed to any authenticated user', async () => {
  for (const p of ['/api', '/api/v1', '/apis', '/apis/argoproj.io/v1alpha1', '/version']) {
    assert.equal((await call(emu, 'GET', p, { token: 'reader-token' })).status, 200, p)
  }
  const gv = await call(emu, 'GET', '/apis/argoproj.io/v1alpha1', { token: 'reader-token' })
  const wfRes = (gv.json.resources as Record<string, unknown>[]).find((r) => r.name === 'workflows')
  assert.deepEqual(wfRes?.shortNames, ['wf'])
  assert.equal(wfRes?.namespaced, true)
  assert.equal(wfRes?.kind, 'Workflow')
  assert.equal(wfRes?.singularName, 'workflow')
  assert.ok((wfRes?.verbs as string[]).includes('watch'))
})

test('allowed verbs pass; others get the apiserver 403 message', async () => {
  assert.equal((await call(emu, 'GET', WF_PATH, { token: 'reader-token' })).status, 200)

  const create = await call(emu, 'POST', WF_PATH, { token: 'reader-token', body: wf('x') })
  assert.equal(create.status, 403)
  assert.deepEqual(create.json, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: `workflows.argoproj.io is forbidden: User "${SA}" cannot create resource "workflows" in API group "argoproj.io" in the namespace "argo"`,
    reason: 'Forbidden', details: { group: 'argoproj.io', kind: 'workflows' }, code: 403,
  })

  const otherNs = await call(emu, 'GET', '/apis/argoproj.io/v1alpha1/namespaces/other/workflows', { token: 'reader-token' })
  assert.equal(otherNs.json.message, `workflows.argoproj.io is forbidden: User "${SA}" cannot list resource "workflows" in API group "argoproj.io" in the namespace "other"`)

  const cluster = await call(emu, 'GET', '/apis/argoproj.io/v1alpha1/workflows', { token: 'reader-token' })
  assert.equal(cluster.json.message, `workflows.argoproj.io is forbidden: User "${SA}" cannot list resource "workflows" in API group "argoproj.io" at the cluster scope`)

  const named = await call(emu, 'DELETE', `${WF_PATH}/x`, { token: 'reader-token' })
  assert.equal(named.json.message, `workflows.argoproj.io "x" is forbidden: User "${SA}" cannot delete resource "workflows" in API group "argoproj.io" in the namespace "argo"`)
  assert.deepEqual(named.json.details, { name: 'x', group: 'argoproj.io', kind: 'workflows' })

  const pods = await call(emu, 'GET', '/api/v1/namespaces/argo/pods', { token: 'reader-token' })
  assert.equal(pods.json.message, `pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "argo"`)

  const status = await call(emu, 'PATCH', `${WF_PATH}/x/status`, { token: 'reader-token', body: {}, contentType: 'application/merge-patch+json' })
  assert.equal(status.json.message, `workflows.argoproj.io "x" is forbidden: User "${SA}" cannot patch resource "workflows/status" in API group "argoproj.io" in the namespace "argo"`)

  // pods/log is allowed by rule: the pod is missing, so 404 rather than 403
  assert.equal((await call(emu, 'GET', '/api/v1/namespaces/argo/pods/nope/log', { token: 'reader-token' })).status, 404)
})

async function ssar(token: string, resourceAttributes: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await call(emu, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    token, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } },
  })
  assert.equal(r.status, 201)
  assert.equal(r.json.kind, 'SelfSubjectAccessReview')
  return r.json.status as Record<string, unknown>
}

test('SelfSubjectAccessReview evaluates the caller’s rules', async () => {
  assert.equal((await ssar('reader-token', { namespace: 'argo', verb: 'list', group: 'argoproj.io', resource: 'workflows' })).allowed, true)
  assert.equal((await ssar('reader-token', { namespace: 'argo', verb: 'delete', group: 'argoproj.io', resource: 'workflows' })).allowed, false)
  // empty namespace = cluster-wide: a namespaced rule does not allow it
  assert.equal((await ssar('reader-token', { namespace: '', verb: 'list', group: 'argoproj.io', resource: 'workflows' })).allowed, false)
  assert.equal((await ssar('reader-token', { namespace: 'argo', verb: 'get', group: '', resource: 'pods', subresource: 'log' })).allowed, true)
  assert.equal((await ssar('reader-token', { namespace: 'argo', verb: 'get', group: '', resource: 'pods' })).allowed, false)
  // resourceNames: only the named object, in any namespace (the rule has no namespaces)
  assert.equal((await ssar('reader-token', { namespace: 'other', verb: 'update', group: 'argoproj.io', resource: 'workflows', name: 'only-me' })).allowed, true)
  assert.equal((await ssar('reader-token', { namespace: 'other', verb: 'update', group: 'argoproj.io', resource: 'workflows', name: 'not-me' })).allowed, false)
  assert.equal((await ssar(emu.adminToken, { verb: 'delete', group: '', resource: 'namespaces' })).allowed, true)
})

test('SelfSubjectReview reports the user', async () => {
  const r = await call(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: 'reader-token', body: {} })
  assert.equal(r.status, 201)
  assert.deepEqual(r.json.status, { userInfo: { username: SA, groups: ['system:authenticated'] } })
})

test('service-account token secrets mint a token; RoleBindings grant it rights', async () => {
  await call(emu, 'POST', '/api/v1/namespaces/argo/serviceaccounts', { body: { metadata: { name: 'bot' } } })
  const s = await call(emu, 'POST', '/api/v1/namespaces/argo/secrets', {
    body: { metadata: { name: 'bot-token', annotations: { 'kubernetes.io/service-account.name': 'bot' } }, type: 'kubernetes.io/service-account-token' },
  })
  assert.equal(s.status, 201)
  const token = Buffer.from(String((s.json.data as Record<string, string>).token), 'base64').toString()
  const who = await call(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token, body: {} })
  assert.deepEqual(who.json.status, { userInfo: { username: 'system:serviceaccount:argo:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:argo', 'system:authenticated'] } })
  assert.equal((await call(emu, 'GET', WF_PATH, { token })).status, 403)

  await call(emu, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/argo/roles', {
    body: { metadata: { name: 'wf-reader' }, rules: [{ verbs: ['list'], apiGroups: ['argoproj.io'], resources: ['workflows'] }] },
  })
  await call(emu, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/argo/rolebindings', {
    body: { metadata: { name: 'bot-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'wf-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'argo' }] },
  })
  assert.equal((await call(emu, 'GET', WF_PATH, { token })).status, 200)
  assert.equal((await call(emu, 'GET', '/apis/argoproj.io/v1alpha1/namespaces/other/workflows', { token })).status, 403)

  await call(emu, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    body: { metadata: { name: 'cm-all' }, rules: [{ verbs: ['*'], apiGroups: [''], resources: ['configmaps'] }] },
  })
  await call(emu, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    body: { metadata: { name: 'sas-cm' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cm-all' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts' }] },
  })
  assert.equal((await call(emu, 'GET', '/api/v1/configmaps', { token })).status, 200)
})

test('addUser() adds a user at runtime', async () => {
  emu.addUser({ token: 'late', username: 'late-user', rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] })
  assert.equal((await call(emu, 'GET', WF_PATH, { token: 'late' })).status, 200)
})
