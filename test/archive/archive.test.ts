import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { sqlQuery } from '../harness/postgres.js'
import { aWorkflow, startStack } from '../harness/stack.js'
import { openStream, watchEvents } from '../harness/streams.js'
import { archiveArgs, finished, liveStatus, STATUS, until, WF } from './helpers.js'

type Wf = { metadata: { name: string; uid: string; namespace: string; labels?: Record<string, string> }; status?: Record<string, unknown>; spec?: Record<string, unknown> }
type List = { metadata: { continue?: string }; items: Wf[] | null }

test('finished workflows are archived: upsert, labels table, live label Pending then Archived, read back Persisted', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const runner = startRunner(s.emulator, { stepMs: 20, archiveLabels: true })
  t.after(() => runner.stop())
  const created = await s.json<Wf>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: aWorkflow({ name: 'run-1', labels: { team: 'data' } }) } })
  assert.equal(created.status, 200)
  await until('Archived label', () => liveStatus(s, 'run-1') === 'Archived')
  const rows = await sqlQuery<{ uid: string; phase: string; resourceversion: string }>(s.databaseUrl as string, 'SELECT uid, phase, resourceversion FROM argo_archived_workflows')
  assert.equal(rows.length, 1)
  assert.equal(rows[0]?.uid, created.body.metadata.uid)
  const labels = await sqlQuery<{ name: string; value: string }>(s.databaseUrl as string, 'SELECT name, value FROM argo_archived_workflows_labels ORDER BY name')
  assert.ok(labels.some((l) => l.name === 'team' && l.value === 'data'))
  assert.ok(labels.some((l) => l.name === STATUS && l.value === 'Persisted'))

  const uid = created.body.metadata.uid
  const got = await s.json<Wf>(`/api/v1/archived-workflows/${uid}`)
  assert.equal(got.status, 200)
  assert.equal(got.body.metadata.labels?.[STATUS], 'Persisted')
  assert.equal(got.body.status?.phase, 'Succeeded')
  const byName = await s.json<Wf>('/api/v1/archived-workflows/?namespace=argo&name=run-1')
  assert.equal(byName.body.metadata.uid, uid)
  assert.equal((await s.json('/api/v1/archived-workflows/')).status, 400)

  // The unified list shows it once (from the archive, as upstream, since the live object is labelled Archived).
  const list = await s.json<List>('/api/v1/workflows/argo')
  assert.deepEqual(list.body.items?.map((w) => [w.metadata.name, w.metadata.labels?.[STATUS]]), [['run-1', 'Persisted']])

  const keys = await s.json<{ items: string[] }>('/api/v1/archived-workflows-label-keys')
  assert.ok(keys.body.items.includes('team'))
  const values = await s.json<{ items: string[] }>('/api/v1/archived-workflows-label-values?listOptions.labelSelector=team')
  assert.deepEqual(values.body.items, ['data'])
  assert.equal((await s.json('/api/v1/archived-workflows-label-values?listOptions.labelSelector=team=data')).status, 400)
  for (const [selector, name] of [['team%3E1', 'gt'], ['team%3C1', 'lt'], ['team!%3Dx', '!='], ['!team', '!']]) {
    const r = await s.json(`/api/v1/archived-workflows-label-values?listOptions.labelSelector=${selector}`)
    assert.deepEqual([r.status, r.body], [400, { code: 3, message: `operation ${name} is not supported` }])
  }
  assert.equal((await s.json('/api/v1/archived-workflows-label-values?listOptions.labelSelector=a,b')).status, 400)

  // Gone from Kubernetes: Get falls back to the archive; then delete it from the archive too.
  s.emulator.remove(WF, 'run-1')
  const fallback = await s.json<Wf>('/api/v1/workflows/argo/run-1')
  assert.equal(fallback.status, 200)
  assert.equal(fallback.body.metadata.uid, uid)
  assert.equal((await s.json(`/api/v1/workflows/argo/run-1?uid=${uid}`)).status, 200)
  assert.equal((await s.json(`/api/v1/workflows/argo/run-1?uid=nope`)).status, 404)
  assert.deepEqual((await s.json(`/api/v1/archived-workflows/${uid}`, { method: 'DELETE' })).body, {})
  assert.deepEqual((await s.json(`/api/v1/archived-workflows/${uid}`, { method: 'DELETE' })).body, { code: 5, message: 'not found' })
  assert.deepEqual((await s.json('/api/v1/workflows/argo/run-1')).body, { code: 5, message: 'workflows.argoproj.io "run-1" not found' })
})

test('a change to a workflow after it was archived reaches its row, with nothing written to Kubernetes', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const wf = finished(s, 'reviewed')
  await until('archived', () => liveStatus(s, 'reviewed') === 'Archived')
  const writes = () => s.emulator.requestCount({ method: 'PATCH' })
  const patchesBefore = writes()
  s.emulator.patch(WF, 'reviewed', { metadata: { labels: { reviewed: 'yes' }, annotations: { note: 'checked' } } })
  const row = async () => (await sqlQuery<{ w: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }; resourceversion: string }>(
    s.databaseUrl as string, 'SELECT workflow AS w, resourceversion FROM argo_archived_workflows'))[0]
  await until('the row has the change', async () => (await row())?.w.metadata.labels?.reviewed === 'yes')
  assert.equal((await row())?.w.metadata.annotations?.note, 'checked')
  assert.equal((await row())?.resourceversion, s.emulator.get(WF, 'reviewed')?.metadata.resourceVersion)
  const labels = await sqlQuery<{ name: string }>(s.databaseUrl as string, "SELECT name FROM argo_archived_workflows_labels WHERE name = 'reviewed'")
  assert.equal(labels.length, 1)
  assert.equal(writes(), patchesBefore, 'no label or finalizer patched again')
  // Kubernetes deletes it: the archive keeps the last version (the labelling was not repeated on the way).
  s.emulator.remove(WF, 'reviewed')
  const got = await s.json<Wf>(`/api/v1/archived-workflows/${wf.metadata.uid as string}`)
  assert.equal(got.body.metadata.labels?.reviewed, 'yes')
  assert.equal(got.body.metadata.labels?.[STATUS], 'Persisted')
})

test('a row deleted from the archive stays deleted when its live workflow changes; an upstream row (no version) takes the change', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const url = s.databaseUrl as string
  finished(s, 'deleted-row')
  finished(s, 'upstream-row')
  await until('archived', () => liveStatus(s, 'deleted-row') === 'Archived' && liveStatus(s, 'upstream-row') === 'Archived')
  const uid = s.emulator.get(WF, 'deleted-row')?.metadata.uid as string
  assert.equal((await s.req(`/api/v1/archived-workflows/${uid}`, { method: 'DELETE' })).status, 200)
  await sqlQuery(url, "UPDATE argo_archived_workflows SET resourceversion = NULL WHERE name = 'upstream-row'")
  s.emulator.patch(WF, 'deleted-row', { metadata: { labels: { reviewed: 'yes' } } })
  s.emulator.patch(WF, 'upstream-row', { metadata: { labels: { reviewed: 'yes' } } })
  const reviewed = async (name: string) => (await sqlQuery<{ r: string | null }>(url,
    "SELECT workflow->'metadata'->'labels'->>'reviewed' AS r FROM argo_archived_workflows WHERE name = $1", [name]))[0]?.r
  await until('the upstream row changed', async () => (await reviewed('upstream-row')) === 'yes')
  await s.server.archive.archiver?.idle()
  assert.equal(await reviewed('deleted-row'), undefined, 'no row again')
})

test('a workflow created labelled Archived (a copied live manifest) gets its row when it finishes', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  s.emulator.create(WF, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'copy', labels: { [STATUS]: 'Archived' } },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
    status: { phase: 'Running', startedAt: '2026-03-01T00:00:00Z' },
  })
  // Seen running by the server (its watch stream has it), then it finishes.
  const seen = await openStream(s, '/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3Dcopy')
  await seen.until(() => watchEvents(seen).length > 0)
  seen.close()
  s.emulator.patch(WF, 'copy', { metadata: { labels: { 'workflows.argoproj.io/completed': 'true' } }, status: { phase: 'Succeeded', finishedAt: '2026-03-01T00:01:00Z' } })
  await until('its row', async () => (await sqlQuery<{ phase: string }>(s.databaseUrl as string, "SELECT phase FROM argo_archived_workflows WHERE name = 'copy'"))[0]?.phase === 'Succeeded')
})

test('\\u0000 round-trips through jsonb; the stored JSON is readable as upstream stores it', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const wf = finished(s, 'nul', { message: 'a\u0000b \\u0000 literal' })
  await until('archived', () => liveStatus(s, 'nul') === 'Archived')
  const got = await s.json<Wf>(`/api/v1/archived-workflows/${wf.metadata.uid as string}`)
  assert.equal(got.body.status?.message, 'a\u0000b \\u0000 literal')
  const list = await s.json<List>('/api/v1/archived-workflows')
  assert.equal(list.body.items?.[0]?.status?.message, 'a\u0000b \\u0000 literal')
  const raw = await sqlQuery<{ m: string }>(s.databaseUrl as string, "SELECT workflow->'status'->>'message' AS m FROM argo_archived_workflows")
  assert.equal(raw[0]?.m, 'aARGO_POSTGRES_NULL_REPLACEMENTb \\u0000 literal')
})

test('an archived get answers metadata (labelled Persisted), spec and status only, in upstream JSON dialect', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  const url = s.databaseUrl as string
  const stored = {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name: 'html', namespace: 'argo', uid: 'u-html', labels: { [STATUS]: 'Archived', team: '<a&b>' } },
    spec: { entrypoint: 'main', arguments: { parameters: [{ name: 'p', value: 'x\u2028y' }] } }, status: { phase: 'Succeeded', message: 'a<b' },
  }
  const insert = (uid: string, name: string, workflow: string) => sqlQuery(url, `INSERT INTO argo_archived_workflows (uid, name, phase, namespace, workflow, startedat, finishedat, clustername, instanceid)
    VALUES ($1, $2, 'Succeeded', 'argo', $3, now(), now(), 'default', '')`, [uid, name, workflow])
  await insert('u-html', 'html', JSON.stringify(stored))
  // As written by hand or by an old version: no labels, a null spec, no status.
  await insert('u-bare', 'bare', '{"metadata":{"name":"bare","namespace":"argo","uid":"u-bare"},"spec":null}')

  for (const path of ['/api/v1/archived-workflows/u-html', '/api/v1/archived-workflows/?namespace=argo&name=html']) {
    const res = await s.req(path)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const text = await res.text()
    // Go's encoding/json escapes <, > and & and U+2028 (spec §0).
    assert.ok(text.includes('"\\u003ca\\u0026b\\u003e"') && text.includes('"a\\u003cb"') && text.includes('x\\u2028y'), text)
    assert.ok(!/[<>&\u2028]/.test(text), text)
    const body = JSON.parse(text) as Record<string, unknown>
    assert.deepEqual(Object.keys(body), ['metadata', 'spec', 'status'])
    assert.deepEqual(body, { metadata: { ...stored.metadata, labels: { [STATUS]: 'Persisted', team: '<a&b>' } }, spec: stored.spec, status: stored.status })
  }
  const bare = await s.json('/api/v1/archived-workflows/u-bare')
  assert.deepEqual(bare.body, { metadata: { name: 'bare', namespace: 'argo', uid: 'u-bare', labels: { [STATUS]: 'Persisted' } }, spec: {}, status: {} })
  // The Get fall-back reads the same document.
  assert.deepEqual((await s.json('/api/v1/workflows/argo/bare')).body, bare.body)
})

test('unified list: live and archived in one order, each once, stable keyset paging across the boundary', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  for (let i = 0; i < 12; i++) finished(s, `done-${String(i).padStart(2, '0')}`)
  await until('all archived', () => s.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'))
  // Half of them disappear from Kubernetes; a few are still running.
  for (let i = 0; i < 12; i += 2) s.emulator.remove(WF, `done-${String(i).padStart(2, '0')}`)
  for (let i = 0; i < 3; i++) s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `running-${i}` }, spec: {}, status: { phase: 'Running' } })
  await until('cache', async () => ((await s.json<List>('/api/v1/workflows/argo')).body.items?.length ?? 0) === 15)
  const all = (await s.json<List>('/api/v1/workflows/argo')).body.items ?? []
  assert.deepEqual(all.slice(0, 3).map((w) => w.metadata.name).sort(), ['running-0', 'running-1', 'running-2'])
  assert.deepEqual(all.slice(3).map((w) => w.metadata.name), Array.from({ length: 12 }, (_, i) => `done-${String(11 - i).padStart(2, '0')}`))
  assert.ok(all.slice(3).every((w) => w.metadata.labels?.[STATUS] === 'Persisted'))
  // Pages of 4, while a new workflow finishes and another is deleted mid-way: nothing repeats or is skipped.
  const seen: string[] = []
  let cont = ''
  for (let page = 0; page < 10; page++) {
    const r = await s.json<List>(`/api/v1/workflows/argo?listOptions.limit=4${cont ? `&listOptions.continue=${cont}` : ''}`)
    seen.push(...(r.body.items ?? []).map((w) => w.metadata.name))
    if (page === 1) s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'late' }, spec: {}, status: { phase: 'Running' } })
    if (!r.body.metadata.continue) break
    cont = r.body.metadata.continue
  }
  assert.deepEqual(seen, all.map((w) => w.metadata.name))
  const filtered = await s.json<List>('/api/v1/workflows/argo?listOptions.fieldSelector=metadata.name%3Ddone-0&nameFilter=Prefix&listOptions.limit=3')
  assert.deepEqual(filtered.body.items?.map((w) => w.metadata.name), ['done-09', 'done-08', 'done-07'])
  const rest = await s.json<List>(`/api/v1/workflows/argo?listOptions.fieldSelector=metadata.name%3Ddone-0&nameFilter=Prefix&listOptions.continue=${filtered.body.metadata.continue as string}`)
  assert.equal(rest.body.items?.length, 7)
})

test('unified list: running workflows that finish, are archived and leave Kubernetes between two pages are listed once', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  for (let i = 0; i < 3; i++) finished(s, `done-${i}`)
  await until('archived', () => s.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'))
  for (let i = 0; i < 3; i++) s.emulator.remove(WF, `done-${i}`)
  for (let i = 0; i < 3; i++) s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `running-${i}` }, spec: {}, status: { phase: 'Running' } })
  const page = (cont = '') => s.json<List>(`/api/v1/workflows/argo?listOptions.limit=2${cont ? `&listOptions.continue=${encodeURIComponent(cont)}` : ''}`)
  await until('cache', async () => ((await s.json<List>('/api/v1/workflows/argo')).body.items?.length ?? 0) === 6)
  const first = await page()
  const seen = (first.body.items ?? []).map((w) => w.metadata.name)
  assert.deepEqual(seen.map((n) => n.replace(/-\d$/, '')), ['running', 'running'])
  // All three finish (the newest finished workflows now), are archived and deleted: the two seen would come again
  // among the finished ones, after page 1's position.
  for (let i = 0; i < 3; i++) s.emulator.patch(WF, `running-${i}`, { status: { phase: 'Succeeded', startedAt: '2030-01-01T00:00:00Z', finishedAt: `2030-01-0${i + 2}T00:00:00Z` } })
  await until('archived', () => s.emulator.list(WF).every((w) => w.metadata.labels?.[STATUS] === 'Archived'))
  for (let i = 0; i < 3; i++) s.emulator.remove(WF, `running-${i}`)
  await until('gone from the cache', async () => ((await s.json<List>('/api/v1/workflows/argo')).body.items ?? []).every((w) => w.metadata.labels?.[STATUS] === 'Persisted'))
  // Counted where the pages place them: after the one running workflow not seen yet, the three done ones.
  const counted = await s.json<List & { metadata: { remainingItemCount?: number } }>(`/api/v1/workflows/argo?listOptions.limit=1&listOptions.fieldSelector=ext.showRemainingItemCount%3Dtrue&listOptions.continue=${encodeURIComponent(first.body.metadata.continue ?? '')}`)
  assert.equal(counted.body.items?.[0]?.metadata.name.startsWith('running-'), true)
  assert.equal(counted.body.metadata.remainingItemCount, 3)
  let cont = first.body.metadata.continue ?? ''
  while (cont) {
    const next = await page(cont)
    seen.push(...(next.body.items ?? []).map((w) => w.metadata.name))
    cont = next.body.metadata.continue ?? ''
  }
  assert.deepEqual([...seen].sort(), ['done-0', 'done-1', 'done-2', 'running-0', 'running-1', 'running-2'], JSON.stringify(seen))
})

test('ListArchivedWorkflows: every filter, paging, remaining count', async (t) => {
  const s = await startStack(t, { database: true, args: archiveArgs })
  for (let i = 0; i < 6; i++) finished(s, `a-${i}`, { labels: { n: String(i), tier: i % 2 ? 'odd' : 'even' }, phase: i === 5 ? 'Failed' : 'Succeeded' })
  finished(s, 'b-0', { namespace: 'default', labels: { tier: 'even' } })
  await until('archived', async () => (await s.json<List>('/api/v1/archived-workflows')).body.items?.length === 7)
  const names = async (q: string) => ((await s.json<List>(`/api/v1/archived-workflows?${q}`)).body.items ?? []).map((w) => w.metadata.name)
  assert.deepEqual(await names('namespace=default'), ['b-0'])
  assert.deepEqual(await names('listOptions.fieldSelector=metadata.namespace%3Ddefault'), ['b-0'])
  assert.equal((await names('listOptions.fieldSelector=metadata.namespace!%3Dargo')).length, 1)
  assert.deepEqual(await names('namePrefix=a-&listOptions.labelSelector=tier%3Dodd'), ['a-5', 'a-3', 'a-1'])
  assert.deepEqual(await names('listOptions.labelSelector=tier!%3Dodd,n'), ['a-4', 'a-2', 'a-0'])
  assert.deepEqual(await names('listOptions.labelSelector=n%20in%20(1,2)'), ['a-2', 'a-1'])
  assert.deepEqual(await names('listOptions.labelSelector=n%20notin%20(0,1,2,3,4),tier'), ['b-0', 'a-5'])
  assert.deepEqual(await names('listOptions.labelSelector=!n'), ['b-0'])
  assert.deepEqual(await names('listOptions.labelSelector=n>3'), ['a-5', 'a-4'])
  assert.deepEqual(await names('listOptions.labelSelector=n<1'), ['a-0'])
  assert.deepEqual(await names('listOptions.fieldSelector=metadata.name%3Da-3'), ['a-3'])
  assert.deepEqual(await names('listOptions.fieldSelector=metadata.name%3D-1&nameFilter=Contains'), ['a-1'])
  assert.equal((await names('listOptions.fieldSelector=metadata.name!%3Da-3')).length, 6)
  const mid = (await s.json<List>('/api/v1/archived-workflows?namespace=argo')).body.items?.[2]?.status?.startedAt as string
  // Inclusive bounds, as upstream's (spec §6.4): a workflow started at the bound is in both.
  assert.deepEqual(await names(`namespace=argo&listOptions.fieldSelector=spec.startedAt>${mid}`), ['a-5', 'a-4', 'a-3'])
  assert.deepEqual(await names(`namespace=argo&listOptions.fieldSelector=spec.startedAt<${mid}`), ['a-3', 'a-2', 'a-1', 'a-0'])
  const live = await s.json<List>(`/api/v1/workflows/argo?listOptions.fieldSelector=spec.startedAt>${mid},spec.startedAt<${mid}`)
  assert.deepEqual(live.body.items?.map((w) => w.metadata.name), ['a-3'])
  const p1 = await s.json<List & { metadata: { remainingItemCount?: number } }>('/api/v1/archived-workflows?listOptions.limit=3&listOptions.fieldSelector=ext.showRemainingItemCount%3Dtrue')
  assert.equal(p1.body.items?.length, 3)
  assert.equal(p1.body.metadata.remainingItemCount, 4)
  const p2 = await s.json<List>(`/api/v1/archived-workflows?listOptions.limit=3&listOptions.continue=${p1.body.metadata.continue as string}`)
  const p3 = await s.json<List>(`/api/v1/archived-workflows?listOptions.limit=3&listOptions.continue=${p2.body.metadata.continue as string}`)
  assert.equal(p3.body.items?.length, 1)
  assert.equal(p3.body.metadata.continue, undefined)
  assert.deepEqual((await names('listOptions.limit=2&listOptions.continue=5')), ['a-1', 'a-0'])
  assert.equal((await s.json('/api/v1/archived-workflows?listOptions.fieldSelector=status.phase%3DFailed')).status, 400)
  assert.equal((await s.json('/api/v1/archived-workflows?listOptions.labelSelector=a%3D%27x%27')).status, 400)
  const summary = (await s.json<List>('/api/v1/archived-workflows?listOptions.fieldSelector=metadata.name%3Da-3')).body.items?.[0]
  assert.deepEqual(Object.keys(summary?.status ?? {}).sort(), ['finishedAt', 'phase', 'progress', 'startedAt'])
  assert.deepEqual(summary?.spec, { arguments: { parameters: [{ name: 'p', value: 'v' }] } })
})
