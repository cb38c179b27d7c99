import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { encryptJwe } from '../../src/auth/sso/jwe.js'
import { safeRedirect } from '../../src/auth/sso/http.js'
import { startStack } from '../harness/stack.js'
import { sessionCookie, startSsoStack, workflowRules } from './sso-stack.js'

const accounts = { alice: { email: 'alice@example.com', name: 'Alice', groups: ['admins'] } }
const serviceAccounts = [{ name: 'admin-sa', rule: "'admins' in groups", rules: workflowRules(['get', 'list', 'watch', 'create']) }]
const TOKEN_NOT_VALID = { code: 16, message: 'token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/' }
const now = () => Math.floor(Date.now() / 1000)

test('sso: fake, tampered, foreign-key, expired and foreign-issuer Bearer v2: tokens are 401 (§8)', async (t) => {
  const s = await startSsoStack(t, { accounts, serviceAccounts })
  const { cookie } = await s.login('alice')
  const session = s.open(cookie)
  assert.ok(session)
  const flip = (v: string, at: number) => v.slice(0, at) + (v[at] === 'A' ? 'B' : 'A') + v.slice(at + 1)
  const jwe = cookie.slice('Bearer v2:'.length)
  const bad: Record<string, string> = {
    fake: 'Bearer v2:garbage',
    empty: 'Bearer v2:',
    tamperedCiphertext: `Bearer v2:${flip(jwe, jwe.lastIndexOf('.') - 5)}`,
    tamperedHeader: `Bearer v2:${Buffer.from('{"alg":"dir","enc":"A128GCM"}').toString('base64url')}${jwe.slice(jwe.indexOf('.'))}`,
    algNone: `Bearer v2:${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(session)).toString('base64url')}.`,
    foreignKey: `Bearer v2:${encryptJwe(randomBytes(32), { ...session })}`,
    expired: s.seal({ ...session, iat: now() - 7200, exp: now() - 1 }),
    foreignIssuer: `Bearer v2:${encryptJwe(s.key(), { ...session, iss: 'someone-else' })}`,
  }
  for (const [name, value] of Object.entries(bad)) {
    const res = await s.json('/api/v1/workflows/argo', { headers: sessionCookie(value) })
    assert.equal(res.status, 401, name)
    assert.deepEqual(res.body, TOKEN_NOT_VALID, name)
  }
  // a token minted with the key from Secret `sso` (what another replica would do) is accepted
  assert.equal((await s.req('/api/v1/workflows/argo', { headers: sessionCookie(s.seal({ ...session, iat: now(), exp: now() + 60 })) })).status, 200)
  // a plain Bearer is not accepted in sso-only mode
  assert.equal((await s.req('/api/v1/workflows/argo', { token: s.emulator.adminToken })).status, 401)
})

test('sso: past half its life a session is renewed with the refresh token; a revoked grant ends it', async (t) => {
  const s = await startSsoStack(t, { accounts, serviceAccounts })
  const { cookie } = await s.login('alice')
  const session = s.open(cookie)
  assert.ok(session?.rt, 'the provider gave a refresh token, kept in the session')
  const old = s.seal({ ...session, iat: now() - 6 * 3600, exp: now() + 4 * 3600 })
  const res = await s.req('/api/v1/userinfo', { headers: sessionCookie(old) })
  assert.equal(res.status, 200)
  const renewed = res.headers.getSetCookie().find((c) => c.startsWith('authorization="Bearer v2:'))
  assert.ok(renewed, 'a new session cookie')
  const fresh = s.open(/^authorization="([^"]*)"/.exec(renewed)?.[1] ?? '')
  assert.ok(fresh && fresh.exp > now() + 10 * 3600 - 60, 'a full sessionExpiry again')
  assert.equal(fresh.sub, 'alice')
  assert.deepEqual(fresh.groups, ['admins'])
  // a young session is not renewed
  assert.deepEqual((await s.req('/api/v1/userinfo', { headers: sessionCookie(cookie) })).headers.getSetCookie(), [])

  const revoked = s.seal({ ...session, rt: 'not-a-refresh-token', iat: now() - 6 * 3600, exp: now() + 4 * 3600 })
  const gone = await s.req('/api/v1/userinfo', { headers: sessionCookie(revoked) })
  assert.equal(gone.status, 401, 'the provider refused the refresh token (invalid_grant)')
  assert.ok(gone.headers.getSetCookie().some((c) => /^authorization=;.*Max-Age=0/.test(c)), 'and the cookie is cleared')
})

test('sso: logout clears the cookies and sends the browser to the provider with id_token_hint', async (t) => {
  const s = await startSsoStack(t, { accounts, serviceAccounts })
  const { browser, cookie } = await s.login('alice')
  assert.ok(browser.cookies(new URL(s.url).host).has('argo-id-token'))
  const { hop } = await browser.fetch(`${s.url}/oauth2/logout`, { method: 'POST' })
  assert.equal(hop.status, 303)
  const end = new URL(hop.location ?? '')
  assert.equal(`${end.origin}${end.pathname}`, `${s.idp.issuer}/session/end`)
  const hint = end.searchParams.get('id_token_hint') ?? ''
  assert.equal(JSON.parse(Buffer.from(hint.split('.')[1] ?? '', 'base64url').toString()).sub, 'alice', 'the id_token the provider issued')
  assert.equal(end.searchParams.get('client_id'), 'argo-server')
  assert.ok(hop.setCookie.some((c) => /^authorization=;.*Max-Age=0/.test(c)))
  assert.ok(hop.setCookie.some((c) => /^argo-id-token=;.*Path=\/oauth2\/.*/.test(c)))
  assert.equal(browser.cookies(new URL(s.url).host).has('authorization'), false)
  assert.ok(cookie)
})

test('sso: the final redirect is only a path under base-href; open-redirect attempts land on base-href (§8 aw#6211)', async (t) => {
  for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', '\\\\evil.example', '/%2F/evil.example', '/%5Cevil.example',
    'javascript:alert(1)', '/\t/evil.example', '/./../evil', '/%2e%2e/x', ' /x', '', undefined]) {
    assert.equal(safeRedirect(bad, '/'), '/', String(bad))
  }
  assert.equal(safeRedirect('/workflows/argo?x=1#y', '/'), '/workflows/argo?x=1#y')
  assert.equal(safeRedirect('/other/x', '/argo/'), '/argo/', 'outside base-href')
  assert.equal(safeRedirect('/argo/workflows', '/argo/'), '/argo/workflows')

  const s = await startSsoStack(t, { accounts, serviceAccounts })
  for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example']) {
    const { hops } = await s.login('alice', bad)
    assert.equal(hops.find((h) => h.url.includes('/oauth2/callback'))?.location, `${s.url}/`, bad)
  }
  // a callback without its state cookie, or replayed, is refused
  const { hops } = await s.login('alice')
  const callback = hops.find((h) => h.url.includes('/oauth2/callback'))?.url ?? ''
  const replay = await fetch(callback, { redirect: 'manual' })
  assert.equal(replay.status, 400)
})

test('without sso, /oauth2/redirect and /oauth2/callback are 501 with an empty body (spec §1)', async (t) => {
  const s = await startStack(t)
  for (const path of ['/oauth2/redirect?redirect=/', '/oauth2/callback?state=x&code=y']) {
    const res = await s.req(path, { token: null })
    assert.equal(res.status, 501, path)
    assert.equal(await res.text(), '')
  }
})

test('secrets are never logged: no token, cookie, code or client secret in the server log (§8)', async (t) => {
  const s = await startSsoStack(t, { accounts, serviceAccounts })
  const { cookie, hops } = await s.login('alice')
  await s.req('/api/v1/workflows/argo', { headers: sessionCookie(cookie) })
  await s.req('/api/v1/workflows/argo', { headers: { authorization: 'Bearer some-secret-token' } })
  const code = new URL(hops.find((h) => h.url.includes('/oauth2/callback'))?.url ?? '').searchParams.get('code') ?? ''
  const all = s.logs.join('\n')
  assert.ok(all.includes('/oauth2/callback'), 'requests are logged')
  for (const secret of [cookie.slice(10, 60), 'some-secret-token', code, 'argo-server-secret', s.open(cookie)?.rt ?? 'x']) {
    assert.ok(secret.length > 0 && !all.includes(secret), `log contains ${secret.slice(0, 8)}…`)
  }
})

test('request bodies are bounded before authentication: an oversized unauthenticated POST is refused unread', async (t) => {
  const s = await startStack(t, { args: ['--request-body-limit', '4096'], token: null })
  const big = JSON.stringify({ workflow: { metadata: { name: 'x' }, pad: 'x'.repeat(2 * 1024 * 1024) } })
  const anon = await s.json('/api/v1/workflows/argo', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } })
  assert.equal(anon.status, 401, 'refused on the headers, before the body is read')
  const authed = await s.json('/api/v1/workflows/argo', { method: 'POST', body: big, token: s.emulator.adminToken, headers: { 'content-type': 'application/json' } })
  assert.deepEqual([authed.status, (authed.body as { code: number }).code], [429, 8], 'over the limit: ResourceExhausted, as upstream GRPC_MESSAGE_SIZE')
  const logout = await s.req('/oauth2/logout', { method: 'POST', body: big })
  assert.notEqual(logout.status, 200)
})
