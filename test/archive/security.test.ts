import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sqlQuery } from '../harness/postgres.js'
import { argoGroupRules, startStack } from '../harness/stack.js'
import { archiveArgs, finished, liveStatus, until, WF } from './helpers.js'

const reader = { token: 'reader', username: 'reader', rules: argoGroupRules(['list']) }

test('CVE-2024-53862: the archive fall-back of Get is authorized (fake token 401, no get right 403)', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs, users: [reader] })
  const wf = finished(s, 'secret')
  await until('archived', () => liveStatus(s, 'secret') === 'Archived')
  s.emulator.remove(WF, 'secret')
  assert.equal((await s.json('/api/v1/workflows/argo/secret')).status, 200)
  const fake = await s.json('/api/v1/workflows/argo/secret', { token: 'garbage' })
  assert.equal(fake.status, 401)
  assert.equal(JSON.stringify(fake.body).includes('secret"'), false)
  assert.equal((await s.json('/api/v1/workflows/argo/secret', { token: 'reader' })).status, 403)
  const uid = wf.metadata.uid as string
  assert.equal((await s.json(`/api/v1/archived-workflows/${uid}`, { token: 'garbage' })).status, 401)
  assert.equal((await s.json(`/api/v1/archived-workflows/${uid}`, { token: 'reader' })).status, 403)
  assert.equal((await s.json(`/api/v1/archived-workflows/${uid}`, { token: 'reader', method: 'DELETE' })).status, 403)
  assert.equal((await s.json('/api/v1/archived-workflows', { token: 'garbage' })).status, 401)
  assert.equal((await s.json('/api/v1/archived-workflows', { token: 'reader' })).status, 200)
  const nobody = await s.json('/api/v1/archived-workflows-label-keys', { token: 'garbage' })
  assert.equal(nobody.status, 401)
  // A fake token learns nothing of what the archive holds: 401 whether the uid or name exists or not.
  const unknownUid = '00000000-0000-0000-0000-000000000000'
  for (const path of [`/api/v1/archived-workflows/${unknownUid}`, '/api/v1/archived-workflows/?namespace=argo&name=nobody']) {
    assert.equal((await s.json(path, { token: 'garbage' })).status, 401, path)
    assert.equal((await s.json(path, { token: 'garbage', method: 'DELETE' })).status, 401, path)
    assert.equal((await s.json(path)).status, 404, path)
  }
  assert.equal((await s.json('/api/v1/archived-workflows/?namespace=argo&name=nobody', { token: 'reader' })).status, 403)
  assert.equal((await s.json('/api/v1/archived-workflows/?namespace=argo&name=secret', { token: 'reader' })).status, 403)
})

test('retry and resubmit of an archived workflow create only where the caller may create workflows', async (t) => {
  const argoCreator = { token: 'argo-creator', username: 'argo-creator', rules: argoGroupRules(['get', 'list', 'create'], ['argo']) }
  const s = await startStack(t, { database: true, args: archiveArgs, users: [argoCreator, reader] })
  const wf = finished(s, 'rerun', { phase: 'Failed' })
  await until('archived', () => liveStatus(s, 'rerun') === 'Archived')
  s.emulator.remove(WF, 'rerun')
  const uid = wf.metadata.uid as string
  const put = (action: string, token: string, json: object) => s.json<{ code: number }>(`/api/v1/archived-workflows/${uid}/${action}`, { method: 'PUT', token, json })
  const count = (namespace: string) => s.emulator.list({ ...WF, namespace }).length
  const before = { argo: count('argo'), default: count('default') }
  // The body's namespace is where the run is created, so the caller's right to create there is what counts.
  const elsewhere = await put('resubmit', 'argo-creator', { namespace: 'default' })
  assert.equal(elsewhere.status, 403, JSON.stringify(elsewhere.body))
  assert.equal(elsewhere.body.code, 7)
  for (const action of ['retry', 'resubmit']) {
    assert.equal((await put(action, 'garbage', {})).status, 401, action)
    assert.equal((await put(action, 'reader', {})).status, 403, action)
  }
  assert.deepEqual({ argo: count('argo'), default: count('default') }, before)
  assert.equal((await put('resubmit', 'argo-creator', {})).status, 200)
  assert.equal(count('argo'), before.argo + 1)
})

test('label keys and values are those of the namespaces the caller may list workflows in', async (t) => {
  const argoOnly = { token: 'argo-only', username: 'argo-only', rules: argoGroupRules(['list'], ['argo']) }
  const s = await startStack(t, { database: true, args: archiveArgs, users: [argoOnly] })
  finished(s, 'here', { labels: { team: 'a' } })
  finished(s, 'there', { namespace: 'default', labels: { team: 'secret', 'only-default': 'x' } })
  await until('archived', () => liveStatus(s, 'here') === 'Archived' && liveStatus(s, 'there', 'default') === 'Archived')
  const keys = async (q: string, token?: string) => s.json<{ items?: string[] }>(`/api/v1/archived-workflows-label-keys${q}`, { token })
  const values = async (q: string, token?: string) => s.json<{ items?: string[] }>(`/api/v1/archived-workflows-label-values?listOptions.labelSelector=${q}`, { token })
  const mine = await keys('?namespace=argo', 'argo-only')
  assert.equal(mine.status, 200)
  assert.ok(mine.body.items?.includes('team') && !mine.body.items.includes('only-default'), JSON.stringify(mine.body))
  assert.deepEqual((await values('team&namespace=argo', 'argo-only')).body, { items: ['a'] })
  assert.deepEqual((await values('only-default&namespace=argo', 'argo-only')).body, {})
  for (const r of [await keys('', 'argo-only'), await keys('?namespace=default', 'argo-only'), await values('team', 'argo-only')]) assert.equal(r.status, 403)
  // Cluster-wide, every namespace's; within one, that one's.
  assert.ok((await keys('')).body.items?.includes('only-default'))
  assert.deepEqual((await values('team')).body, { items: ['a', 'secret'] })
  assert.deepEqual((await values('team&namespace=default')).body, { items: ['secret'] })
})

test('every filter value reaches SQL as a bound parameter: injection attempts match nothing and break nothing', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  finished(s, 'victim', { labels: { team: 'a' } })
  await until('archived', () => liveStatus(s, 'victim') === 'Archived')
  const evil = ["x' OR '1'='1", "x'; DROP TABLE argo_archived_workflows; --", 'x%', '_', "\\'", '%']
  for (const v of evil) {
    const e = encodeURIComponent(v)
    for (const q of [
      `namePrefix=${e}`, `namespace=${e}`, `listOptions.fieldSelector=metadata.name%3D${e}`,
      `listOptions.fieldSelector=metadata.name%3D${e}&nameFilter=Contains`, `listOptions.fieldSelector=metadata.name%3D${e}&nameFilter=Prefix`,
      `listOptions.fieldSelector=metadata.namespace%3D${e}`,
    ]) {
      const r = await s.json<{ items: unknown[] | null }>(`/api/v1/archived-workflows?${q}`)
      assert.equal(r.status, 200, q)
      assert.equal(r.body.items, null, q)
      const u = await s.json<{ items: unknown[] | null }>(`/api/v1/workflows/argo?${q.replace(/namePrefix|namespace=/, 'x=')}`)
      assert.ok(u.status === 200 || u.status === 400, q)
    }
    // Label selectors cannot even carry quotes: the parser rejects them before SQL.
    assert.equal((await s.json(`/api/v1/archived-workflows?listOptions.labelSelector=team%3D${e}`)).status, 400)
    assert.equal((await s.json(`/api/v1/archived-workflows/${e}`)).status, 404)
    assert.equal((await s.json(`/api/v1/archived-workflows/?namespace=argo&name=${e}`)).status, 404)
    assert.equal((await s.json(`/api/v1/archived-workflows-label-values?listOptions.labelSelector=${e}`)).status, 400)
    assert.equal((await s.json(`/api/v1/archived-workflows?listOptions.fieldSelector=spec.startedAt>${e}`)).status, 400)
    assert.equal((await s.json(`/api/v1/archived-workflows?listOptions.continue=${e}`)).status, 400)
  }
  const rows = await sqlQuery(s.databaseUrl as string, 'SELECT uid FROM argo_archived_workflows')
  assert.equal(rows.length, 1)
  const ok = await s.json<{ items: unknown[] }>('/api/v1/archived-workflows?listOptions.labelSelector=team%20in%20(a,b),team!%3Dc')
  assert.equal(ok.body.items.length, 1)
})

test('times a workflow cannot have are 400 on both lists, never a 500: out of range, without a zone, impossible dates', async (t) => {
  const s = await startStack(t, { database: true })
  const token = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const bad = [
    ...[[1, 9e15, 'x'], [1, -6e15, 'x'], [1, 1.5, 'x']].map((v) => `listOptions.continue=${token(v)}`),
    ...['0000-01-01T00:00:00Z', '2026-02-29T12:00:00Z', '2026-01-10T00:03:00', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00+25:00']
      .flatMap((t) => [`listOptions.fieldSelector=spec.startedAt>${encodeURIComponent(t)}`, `createdAfter=${encodeURIComponent(t)}`, `finishedBefore=${encodeURIComponent(t)}`]),
  ]
  for (const q of bad) {
    // createdAfter and finishedBefore are the workflow list's only (upstream's archive list has neither)
    for (const path of q.startsWith('listOptions.') ? ['/api/v1/archived-workflows', '/api/v1/workflows/argo'] : ['/api/v1/workflows/argo']) {
      const r = await s.json<{ code: number }>(`${path}?${q}`)
      assert.deepEqual([path, q, r.status, r.body.code], [path, q, 400, 3])
    }
  }
  // Within range and well formed, with a zone offset, fractional seconds, the first and last of a month, year 1.
  for (const t of ['2026-02-28T23:59:59.123456789+05:30', '2024-02-29T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
    assert.equal((await s.json(`/api/v1/archived-workflows?listOptions.fieldSelector=spec.startedAt>${encodeURIComponent(t)}`)).status, 200, t)
    assert.equal((await s.json(`/api/v1/workflows/argo?listOptions.fieldSelector=spec.startedAt<${encodeURIComponent(t)}`)).status, 200, t)
  }
})

test('without persistence the archive answers as upstream null archive (spec §6.4)', async (t) => {
  const s = await startStack(t)
  assert.deepEqual((await s.json('/api/v1/archived-workflows')).body, { metadata: {}, items: null })
  assert.deepEqual((await s.json('/api/v1/archived-workflows/abc')).body, { code: 13, message: 'getting archived workflows not supported' })
  assert.equal((await s.json('/api/v1/archived-workflows/abc', { method: 'DELETE' })).status, 500)
  assert.equal((await s.json('/api/v1/archived-workflows/abc/retry', { method: 'PUT', json: {} })).status, 500)
  assert.deepEqual((await s.json('/api/v1/archived-workflows-label-keys')).body, {})
  assert.deepEqual((await s.json('/api/v1/archived-workflows-label-values?listOptions.labelSelector=x')).body, {})
  assert.equal((await s.json('/api/v1/workflows/argo/missing')).status, 404)
})

test('inputs Postgres would refuse are 400s before any query; oversized requests answer in the contract shape', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  finished(s, 'kept', { labels: { tier: '3' } })
  await until('archived', () => liveStatus(s, 'kept') === 'Archived')
  const bad = async (path: string) => {
    const r = await s.json<{ code: number; message: string }>(path)
    assert.equal(r.status, 400, path)
    assert.equal(r.body.code, 3, path)
    assert.equal(typeof r.body.message, 'string', path)
  }
  // An integer beyond int64, as apimachinery's ParseInt refuses it (Postgres' bigint cast answered 500).
  await bad('/api/v1/archived-workflows?listOptions.labelSelector=tier%3E9223372036854775808')
  const inRange = await s.json<{ items: unknown[] }>('/api/v1/archived-workflows?listOptions.labelSelector=tier%3C9223372036854775807')
  assert.equal(inRange.status, 200)
  assert.equal(inRange.body.items.length, 1)
  await bad('/api/v1/archived-workflows?listOptions.continue=9223372036854775808')
  await bad('/api/v1/workflows/argo?listOptions.continue=9223372036854775808')
  // NUL cannot be in any name or selector, and Postgres refuses it in text parameters.
  for (const path of ['/api/v1/archived-workflows/a%00b', '/api/v1/archived-workflows/?namespace=argo&name=a%00b', '/api/v1/archived-workflows?namePrefix=%00',
    '/api/v1/archived-workflows?listOptions.fieldSelector=metadata.name%3Da%00', '/api/v1/workflows/argo/a%00b', '/api/v1/workflows/argo/kept?uid=%00']) await bad(path)
  // Nor in a continue token's position, past the URL's check (base64url of [1, <time>, "\u0000"]): was a 500.
  const nulToken = Buffer.from(JSON.stringify([1, Date.parse('2026-01-01T00:00:00Z'), '\u0000'])).toString('base64url')
  for (const path of ['/api/v1/archived-workflows', '/api/v1/workflows/argo']) await bad(`${path}?listOptions.limit=1&listOptions.continue=${nulToken}`)
  // Names longer than Kubernetes allows (253) reach their handler and get upstream's answers: not found by name, an
  // empty list in a namespace, 401 for a bad token; past 4,096 characters the router refuses the path (400 code 3).
  assert.equal((await s.json(`/api/v1/workflows/argo/${'a'.repeat(253)}`)).status, 404)
  for (const path of [`/api/v1/workflows/${'n'.repeat(300)}/x`, `/api/v1/archived-workflows/${'u'.repeat(300)}`]) {
    const long = await s.json<{ code: number }>(path)
    assert.deepEqual([long.status, long.body.code], [404, 5], path)
  }
  const emptyList = await s.json<{ items: unknown }>(`/api/v1/workflows/${'n'.repeat(300)}`)
  assert.deepEqual([emptyList.status, emptyList.body.items], [200, null])
  assert.equal((await s.json(`/api/v1/workflows/${'n'.repeat(300)}`, { token: 'garbage' })).status, 401)
  const tooLong = await s.json<{ code: number }>(`/api/v1/workflows/${'n'.repeat(4097)}`)
  assert.deepEqual([tooLong.status, tooLong.body.code], [400, 3])
  // Headers over Node's limit: Node's parser answers before any route; still {"code","message"}.
  const big = await s.req('/api/v1/archived-workflows', { headers: { 'x-big': 'x'.repeat(20_000) } })
  assert.equal(big.status, 431)
  assert.deepEqual(await big.json(), { code: 3, message: 'request headers too large' })
  // Nothing changed, and the server still answers.
  const after = await s.json<{ items: { metadata: { name: string } }[] }>('/api/v1/archived-workflows')
  assert.deepEqual(after.body.items.map((w) => w.metadata.name), ['kept'])
})
