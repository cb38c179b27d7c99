import assert from 'node:assert/strict'
import { test } from 'node:test'
import { aWorkflow, argoGroupRules, startStack } from '../harness/stack.js'

const TOKEN_NOT_VALID = 'token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/'
const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
const readerToken = jwt({ sub: 'system:serviceaccount:argo:reader', iss: 'kubernetes/serviceaccount' })
const writerToken = jwt({ sub: 'system:serviceaccount:argo:writer', email: 'w@example.com' })

const users = [
  { token: readerToken, username: 'system:serviceaccount:argo:reader', rules: argoGroupRules(['get', 'list', 'watch'], ['argo']) },
  { token: writerToken, username: 'system:serviceaccount:argo:writer', rules: argoGroupRules(['get', 'list', 'watch', 'create', 'delete', 'patch'], ['argo']) },
  { token: 'nobody', username: 'nobody', rules: argoGroupRules([]) },
]

test('client mode: no token → 401 with upstream message and no version header', async (t) => {
  const s = await startStack(t, { users })
  for (const path of ['/api/v1/workflows/argo', '/api/v1/info', '/api/v1/userinfo']) {
    const res = await s.json(path, { token: null })
    assert.equal(res.status, 401, path)
    assert.deepEqual(res.body, { code: 16, message: TOKEN_NOT_VALID })
    assert.equal(res.headers.get('grpc-metadata-argo-version'), null)
  }
})

test('client mode: a fake token is 401 from Kubernetes on every call that reaches it, and never data', async (t) => {
  const s = await startStack(t, { users })
  await s.req('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'secret' }) } })
  for (const [method, path] of [['GET', '/api/v1/workflows/argo'], ['GET', '/api/v1/workflows/argo/secret'], ['GET', '/api/v1/workflows/argo/@latest'], ['DELETE', '/api/v1/workflows/argo/secret'], ['POST', '/api/v1/workflows/argo']] as const) {
    const res = await s.json<{ code: number }>(path, { method, token: 'garbage', ...(method === 'POST' ? { json: { workflow: aWorkflow() } } : {}) })
    assert.equal(res.status, 401, `${method} ${path}`)
    assert.equal(res.body.code, 16)
    assert.doesNotMatch(JSON.stringify(res.body), /secret/)
  }
  // info makes no Kubernetes call, so any Bearer passes (spec §2.10)
  assert.equal((await s.req('/api/v1/info', { token: 'garbage' })).status, 200)
})

test('client mode: a token without rights gets 403 with upstream/apiserver messages', async (t) => {
  const s = await startStack(t, { users })
  await s.req('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'w' }) } })
  const list = await s.json('/api/v1/workflows/argo', { token: 'nobody' })
  assert.equal(list.status, 403)
  assert.deepEqual(list.body, { code: 7, message: 'Permission denied, you are not allowed to list workflows in namespace "argo". Maybe you want to specify a namespace with query parameter `.namespace=argo`?' })
  const get = await s.json<{ code: number; message: string }>('/api/v1/workflows/argo/w', { token: 'nobody' })
  assert.equal(get.status, 403)
  assert.equal(get.body.code, 7)
  assert.match(get.body.message, /cannot get resource "workflows"/)
  const create = await s.json<{ code: number }>('/api/v1/workflows/argo', { method: 'POST', token: readerToken, json: { workflow: aWorkflow() } })
  assert.equal(create.status, 403)
  const all = await s.json('/api/v1/workflows/', { token: readerToken })
  assert.equal(all.status, 403, 'namespaced rights do not allow a cluster-wide list')
  const inNs = await s.json<{ items: unknown[] }>('/api/v1/workflows/argo', { token: readerToken })
  assert.equal(inNs.status, 200)
})

test('client mode: the caller identity creates, with DNS-safe creator labels; userinfo decodes the token', async (t) => {
  const s = await startStack(t, { users })
  const res = await s.json<{ metadata: { labels: Record<string, string> } }>('/api/v1/workflows/argo', {
    method: 'POST', token: writerToken,
    json: { workflow: aWorkflow({ labels: { 'workflows.argoproj.io/creator-preferred-username': 'spoofed' } }) },
  })
  assert.equal(res.status, 200)
  assert.equal(res.body.metadata.labels['workflows.argoproj.io/creator'], 'system-serviceaccount-argo-writer')
  assert.equal(res.body.metadata.labels['workflows.argoproj.io/creator-email'], 'w.at.example.com')
  assert.equal(res.body.metadata.labels['workflows.argoproj.io/creator-preferred-username'], undefined, 'labels the claims do not back are removed')
  const me = await s.json('/api/v1/userinfo', { token: writerToken })
  assert.deepEqual(me.body, { subject: 'system:serviceaccount:argo:writer', email: 'w@example.com', serviceAccountName: 'writer', serviceAccountNamespace: 'argo' })
})

test('cookies: the authorization cookie is used when there is no header, quoted or not, several tried in order', async (t) => {
  const s = await startStack(t, { users })
  const cookie = async (c: string) => (await s.req('/api/v1/workflows/argo', { token: null, headers: { cookie: c } })).status
  assert.equal(await cookie(`authorization=Bearer ${readerToken}`), 200)
  assert.equal(await cookie(`authorization="Bearer ${readerToken}"`), 200)
  assert.equal(await cookie(`other=1; authorization=Bearer ${readerToken}`), 200)
  assert.equal(await cookie('authorization=nonsense'), 401)
})

test('server mode: requests run with the server identity whatever they send; hybrid accepts both', async (t) => {
  const s = await startStack(t, { users, authMode: ['server'], token: null })
  assert.equal((await s.req('/api/v1/workflows/argo')).status, 200)
  assert.equal((await s.req('/api/v1/workflows/argo', { token: 'garbage' })).status, 200)
  const h = await startStack(t, { users, authMode: ['hybrid'], token: null })
  assert.equal((await h.req('/api/v1/workflows/argo')).status, 200, 'no token: server identity')
  assert.equal((await h.req('/api/v1/workflows/argo', { token: 'nobody' })).status, 403, 'a Bearer token: client identity')
})
