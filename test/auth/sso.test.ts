import assert from 'node:assert/strict'
import { test } from 'node:test'
import { aWorkflow } from '../harness/stack.js'
import { sessionCookie, startSsoStack, workflowRules, type ServiceAccountSpec } from './sso-stack.js'

const accounts = {
  alice: { email: 'alice@example.com', name: 'Alice', groups: ['admins', 'everyone'] },
  bob: { email: 'bob@example.com', name: 'Bob', groups: ['readers'] },
  carol: { email: 'carol@example.com', name: 'Carol', groups: ['nobody-maps-this'] },
  dave: { email: 'dave@example.com', name: 'Dave', groups: ['team-default'] },
}
const serviceAccounts: ServiceAccountSpec[] = [
  { name: 'admin-sa', rule: "'admins' in groups", precedence: 10, rules: workflowRules(['get', 'list', 'watch', 'create', 'delete', 'patch', 'update']) },
  { name: 'reader-sa', rule: `'readers' in groups || email == "alice@example.com"`, precedence: 5, rules: workflowRules(['get', 'list', 'watch']) },
  { name: 'broken-sa', rule: "'admins' in (", precedence: 100, rules: workflowRules(['*']) },
]

test('sso: a full login gives an encrypted, HttpOnly, SameSite session cookie; userinfo shows the user and their ServiceAccount', async (t) => {
  const s = await startSsoStack(t, { accounts, serviceAccounts })
  const { hops, cookie, setCookie } = await s.login('alice', '/workflows/argo?phase=Running')
  const callback = hops.find((h) => h.url.includes('/oauth2/callback'))
  assert.ok(callback, 'the provider redirected back to the callback')
  assert.equal(callback.status, 302)
  assert.equal(callback.location, `${s.url}/workflows/argo?phase=Running`, 'the final redirect is the requested path')
  assert.match(cookie, /^Bearer v2:[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWE, dir (empty key part)')
  assert.match(setCookie, /; Path=\/;/)
  assert.match(setCookie, /; HttpOnly/)
  assert.match(setCookie, /; SameSite=Strict/)
  assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP: not Secure')
  const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1])
  assert.ok(maxAge > 10 * 3600 - 60 && maxAge <= 10 * 3600, `expiry is sessionExpiry (10h default): ${maxAge}`)
  assert.ok(callback.setCookie.some((c) => /^argo-oauth2-[\w-]+=;/.test(c) && /Max-Age=0/.test(c)), 'the state cookie is cleared')

  const me = await s.json('/api/v1/userinfo', { headers: sessionCookie(cookie) })
  assert.equal(me.status, 200)
  assert.deepEqual(me.body, {
    issuer: 'argo-server', subject: 'alice', groups: ['admins', 'everyone'], email: 'alice@example.com', emailVerified: true, name: 'Alice',
    serviceAccountName: 'admin-sa', serviceAccountNamespace: 'argo',
  })
  // the header works as well as the cookie (the CLI: ARGO_TOKEN='Bearer v2:…')
  assert.equal((await s.req('/api/v1/userinfo', { headers: { authorization: cookie } })).status, 200)
})

test('sso rbac: two users run as two ServiceAccounts with different rights; precedence decides; no match is 403 not allowed', async (t) => {
  const s = await startSsoStack(t, { accounts, serviceAccounts })
  const alice = (await s.login('alice')).cookie
  const bob = (await s.login('bob')).cookie
  const carol = (await s.login('carol')).cookie

  const created = await s.json<{ metadata: { name: string; labels: Record<string, string> } }>('/api/v1/workflows/argo', { method: 'POST', headers: sessionCookie(alice), json: { workflow: aWorkflow() } })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  assert.equal(created.body.metadata.labels['workflows.argoproj.io/creator'], 'alice')
  assert.equal(created.body.metadata.labels['workflows.argoproj.io/creator-email'], 'alice.at.example.com')
  assert.equal(created.body.metadata.labels['workflows.argoproj.io/creator-preferred-username'], 'alice')

  const list = await s.json<{ items: unknown[] }>('/api/v1/workflows/argo', { headers: sessionCookie(bob) })
  assert.equal(list.status, 200)
  assert.equal(list.body.items.length, 1)
  const denied = await s.json<{ code: number; message: string }>('/api/v1/workflows/argo', { method: 'POST', headers: sessionCookie(bob), json: { workflow: aWorkflow() } })
  assert.equal(denied.status, 403)
  assert.match(denied.body.message, /system:serviceaccount:argo:reader-sa/, 'Kubernetes saw the reader ServiceAccount')
  assert.equal((await s.req(`/api/v1/workflows/argo/${created.body.metadata.name}`, { method: 'DELETE', headers: sessionCookie(bob) })).status, 403)

  for (const path of ['/api/v1/workflows/argo', '/api/v1/userinfo']) {
    const none = await s.json(path, { headers: sessionCookie(carol) })
    assert.equal(none.status, 403, path)
    assert.deepEqual(none.body, { code: 7, message: 'not allowed' })
  }
  assert.ok(s.logs.some((l) => l.includes('broken-sa') && l.includes('rbac-rule')), 'the bad rule is logged and skipped')
})

test('sso rbac: namespace delegation lets a namespace rule win, also when no login rule matches (GHSA-p4gq-3vxj-f4jq)', async (t) => {
  const delegated: ServiceAccountSpec[] = [
    ...serviceAccounts,
    { namespace: 'default', name: 'team-sa', rule: "'team-default' in groups", rules: workflowRules(['get', 'list', 'watch', 'create']) },
  ]
  const s = await startSsoStack(t, { accounts, serviceAccounts: delegated, env: { SSO_DELEGATE_RBAC_TO_NAMESPACE: 'true' } })
  const dave = (await s.login('dave')).cookie
  const inTeam = await s.json('/api/v1/workflows/default', { method: 'POST', headers: sessionCookie(dave), json: { workflow: aWorkflow() } })
  assert.equal(inTeam.status, 200, 'the namespace ServiceAccount, no crash')
  assert.deepEqual((await s.json('/api/v1/workflows/argo', { headers: sessionCookie(dave) })).body, { code: 7, message: 'not allowed' })

  const off = await startSsoStack(t, { accounts, serviceAccounts: delegated })
  const dave2 = (await off.login('dave')).cookie
  assert.equal((await off.req('/api/v1/workflows/default', { headers: sessionCookie(dave2) })).status, 403, 'without the variable, no delegation')
})

test('sso: a user in 500 groups gets a cookie under 4 KB, and the group a rule names still matches', async (t) => {
  const groups = Array.from({ length: 500 }, (_, i) => `${crypto.randomUUID()}-${i}`)
  groups.splice(250, 0, 'admins')
  const s = await startSsoStack(t, { accounts: { many: { email: 'many@example.com', groups } }, serviceAccounts })
  const { cookie, setCookie } = await s.login('many')
  const nameValue = setCookie.split(';')[0] as string
  t.diagnostic(`cookie name=value for 501 random groups: ${nameValue.length} bytes`)
  assert.ok(nameValue.length < 4096, `${nameValue.length} bytes`)
  const me = await s.json<{ groups: string[]; serviceAccountName: string }>('/api/v1/userinfo', { headers: sessionCookie(cookie) })
  assert.equal(me.body.serviceAccountName, 'admin-sa')
  assert.ok(me.body.groups.includes('admins'))
  assert.ok(s.logs.some((l) => l.includes('over 4 KB')), 'the trimming is logged')
})
