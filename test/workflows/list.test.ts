import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack, type Stack } from '../harness/stack.js'

type List = { metadata: { continue?: string; resourceVersion?: string; remainingItemCount?: number }; items: { metadata: { name: string; namespace: string; labels?: Record<string, string> }; status?: Record<string, unknown> }[] | null }

function seed(s: Stack, ns: string, name: string, labels: Record<string, string> = {}, status: Record<string, unknown> = {}) {
  s.emulator.create({ group: 'argoproj.io', resource: 'workflows', namespace: ns }, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name, labels }, spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'x' } }] }, status,
  })
}

async function waitForCount(s: Stack, path: string, n: number): Promise<List> {
  for (let i = 0; i < 100; i++) {
    const res = await s.json<List>(path)
    if ((res.body.items?.length ?? 0) === n) return res.body
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`never saw ${n} items at ${path}`)
}

const names = (l: List) => (l.items ?? []).map((i) => i.metadata.name).sort()

test('lists filter by label selector, namespace, field selector grammar and nameFilter', async (t) => {
  const s = await startStack(t)
  seed(s, 'argo', 'alpha', { app: 'a', tier: '1' })
  seed(s, 'argo', 'beta', { app: 'b', tier: '2' })
  seed(s, 'argo', 'alphabet', { app: 'a' })
  seed(s, 'default', 'gamma', { app: 'a' })
  await waitForCount(s, '/api/v1/workflows/', 4)
  assert.deepEqual(names(await waitForCount(s, '/api/v1/workflows/argo', 3)), ['alpha', 'alphabet', 'beta'])
  const q = async (query: string) => names((await s.json<List>(`/api/v1/workflows/argo?${query}`)).body)
  assert.deepEqual(await q('listOptions.labelSelector=app%3Da'), ['alpha', 'alphabet'])
  assert.deepEqual(await q('listOptions.labelSelector=app%20in%20(a,b),!tier'), ['alphabet'])
  assert.deepEqual(await q('listOptions.labelSelector=tier>1'), ['beta'])
  assert.deepEqual(await q('listOptions.fieldSelector=metadata.name%3Dalpha'), ['alpha'])
  assert.deepEqual(await q('listOptions.fieldSelector=metadata.name%3Dalpha&nameFilter=Prefix'), ['alpha', 'alphabet'])
  assert.deepEqual(await q('listOptions.fieldSelector=metadata.name%3Dlph&nameFilter=Contains'), ['alpha', 'alphabet'])
  assert.deepEqual(await q('listOptions.fieldSelector=metadata.name!%3Dalpha&nameFilter=Prefix'), ['alphabet', 'beta'])
  // An empty name filters nothing, as upstream's unset name (a script's empty variable): it answered no workflow.
  assert.deepEqual(await q('listOptions.fieldSelector=metadata.name%3D'), ['alpha', 'alphabet', 'beta'])
  assert.deepEqual(await q('listOptions.fieldSelector=metadata.name%3D&nameFilter=Prefix'), ['alpha', 'alphabet', 'beta'])
  const all = await s.json<List>('/api/v1/workflows/?listOptions.fieldSelector=metadata.namespace!%3Dargo')
  assert.deepEqual(names(all.body), ['gamma'])
  const none = await s.json<List>('/api/v1/workflows/argo?listOptions.labelSelector=app%3Dzzz')
  assert.equal(none.status, 200)
  assert.equal(none.body.items, null, 'an empty list is items: null, as upstream')
})

test('fields masks are applied to the list; createdAfter and finishedBefore filter', async (t) => {
  const s = await startStack(t)
  seed(s, 'argo', 'done', {}, { phase: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z', nodes: { x: {} } })
  seed(s, 'argo', 'running', {}, { phase: 'Running', startedAt: '2026-01-02T00:00:00Z', nodes: { y: {} } })
  await waitForCount(s, '/api/v1/workflows/argo', 2)
  const masked = await s.json<List>('/api/v1/workflows/argo?fields=items.metadata.name,items.status.phase')
  assert.deepEqual(masked.body, { metadata: {}, items: [{ metadata: { name: 'running' }, status: { phase: 'Running' } }, { metadata: { name: 'done' }, status: { phase: 'Succeeded' } }] })
  const excluded = await s.json<List>('/api/v1/workflows/argo?fields=-items.status.nodes')
  assert.ok(excluded.body.metadata.resourceVersion)
  for (const i of excluded.body.items ?? []) {
    assert.equal(i.status?.nodes, undefined)
    assert.ok(i.status?.phase)
  }
  assert.deepEqual(names((await s.json<List>('/api/v1/workflows/argo?finishedBefore=2026-01-01T00:02:00Z')).body), ['done'])
  const future = new Date(Date.now() + 3600_000).toISOString()
  assert.equal((await s.json<List>(`/api/v1/workflows/argo?createdAfter=${future}`)).body.items, null)
  assert.deepEqual(names((await s.json<List>('/api/v1/workflows/argo?listOptions.fieldSelector=spec.startedAt>2026-01-01T12:00:00Z')).body), ['running'])
  const contradiction = await s.json('/api/v1/workflows/argo?listOptions.fieldSelector=metadata.namespace%3Dother')
  assert.deepEqual([contradiction.status, contradiction.body], [400, { code: 3, message: '\'namespace\' query param ("argo") and fieldselector \'metadata.namespace\' ("other") are both specified and contradict each other' }])
  // Inclusive bounds, as upstream's (spec §6.4): a workflow started exactly at midnight is not left out.
  assert.deepEqual(names((await s.json<List>('/api/v1/workflows/argo?listOptions.fieldSelector=spec.startedAt>2026-01-02T00:00:00Z,spec.startedAt<2026-01-02T00:00:00Z')).body), ['running'])
})

test('paging through 1,000 workflows with limit/continue loses and repeats nothing', async (t) => {
  const s = await startStack(t)
  for (let i = 0; i < 1000; i++) seed(s, 'argo', `wf-${String(i).padStart(4, '0')}`, { batch: i % 2 ? 'odd' : 'even' })
  await waitForCount(s, '/api/v1/workflows/argo?listOptions.limit=1000', 1000)
  const seen: string[] = []
  let cont = ''
  let pages = 0
  do {
    const res = await s.json<List>(`/api/v1/workflows/argo?listOptions.limit=77${cont ? `&listOptions.continue=${encodeURIComponent(cont)}` : ''}`)
    assert.equal(res.status, 200)
    seen.push(...(res.body.items ?? []).map((i) => i.metadata.name))
    cont = res.body.metadata.continue ?? ''
    pages++
  } while (cont)
  assert.equal(pages, Math.ceil(1000 / 77))
  assert.equal(seen.length, 1000)
  assert.equal(new Set(seen).size, 1000)
  const odd = await s.json<List>('/api/v1/workflows/argo?listOptions.labelSelector=batch%3Dodd&listOptions.limit=10&listOptions.fieldSelector=ext.showRemainingItemCount%3Dtrue')
  assert.equal(odd.body.items?.length, 10)
  assert.equal(odd.body.metadata.remainingItemCount, 490)
  const offset = await s.json<List>('/api/v1/workflows/argo?listOptions.limit=5&listOptions.continue=995')
  assert.equal(offset.body.items?.length, 5, "upstream's decimal offset still works")
  assert.equal(offset.body.metadata.continue, undefined)
})

test('bad list options are 400 code 3, never 500', async (t) => {
  const s = await startStack(t)
  const bad = [
    'listOptions.limit=abc',
    'listOptions.limit=99999999999999999999',
    'listOptions.continue=-1',
    'listOptions.continue=zzz',
    'listOptions.fieldSelector=status.phase%3DRunning',
    'listOptions.labelSelector=a%3D%27b%27',
    'createdAfter=garbage',
    'finishedBefore=2026-13-45',
    'nameFilter=Regex',
    'listOptions.fieldSelector=ext.showRemainingItemCount%3Dmaybe',
  ]
  for (const q of bad) {
    const res = await s.json<{ code: number; message: string }>(`/api/v1/workflows/argo?${q}`)
    assert.equal(res.status, 400, q)
    assert.equal(res.body.code, 3, q)
  }
  const contradict = await s.json<{ message: string }>('/api/v1/workflows/argo?listOptions.fieldSelector=metadata.namespace%3Ddefault')
  assert.equal(contradict.status, 400)
  assert.equal((await s.json('/api/v1/workflows/argo?listOptions.fieldSelector=metadata.namespace%3Dargo')).status, 200)
  // `!=` with a namespace asked for contradicts it: it answered every other namespace's workflows under this path.
  for (const [path, selector] of [['argo', 'metadata.namespace!=argo'], ['argo', 'metadata.namespace!=other'], ['', 'metadata.namespace=a,metadata.namespace!=a'],
    ['', 'metadata.namespace!=a,metadata.namespace=b'], ['', 'spec.startedAt>']]) {
    const res = await s.json<{ code: number; message: string }>(`/api/v1/workflows/${path}?listOptions.fieldSelector=${encodeURIComponent(selector as string)}`)
    assert.deepEqual([res.status, res.body.code], [400, 3], selector)
  }
  const notOther = await s.json<{ message: string }>('/api/v1/workflows/argo?listOptions.fieldSelector=metadata.namespace!%3Dother')
  assert.equal(notOther.body.message, '\'namespace\' query param ("argo") and fieldselector \'metadata.namespace!=\' ("other") are both specified and contradict each other')
  assert.equal((await s.json('/api/v1/workflows/?listOptions.fieldSelector=metadata.namespace!%3Da,metadata.namespace!%3Da')).status, 200)
  assert.equal((await s.json('/api/v1/workflows/argo?listOptions.offset=3')).status, 200, 'unknown keys are ignored')
})

test('a workflow that moves in the list order between two pages (it finishes, or is retried) is listed once, where it was on the first page', async (t) => {
  const s = await startStack(t)
  const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
  for (let i = 0; i < 4; i++) seed(s, 'argo', `run-${i}`, {}, { phase: 'Running' })
  // Created later, so once retried it sorts first among the running ones: before the position of page 1.
  await new Promise((r) => setTimeout(r, 1100))
  for (let i = 0; i < 4; i++) seed(s, 'argo', `done-${i}`, {}, { phase: 'Succeeded', finishedAt: `2026-01-0${i + 1}T00:00:00Z` })
  await waitForCount(s, '/api/v1/workflows/argo', 8)
  const page = (cont = '') => s.json<List>(`/api/v1/workflows/argo?listOptions.limit=3${cont ? `&listOptions.continue=${encodeURIComponent(cont)}` : ''}`)
  const first = await page()
  const seen = (first.body.items ?? []).map((i) => i.metadata.name)
  assert.deepEqual(seen.map((n) => n.replace(/-\d$/, '')), ['run', 'run', 'run'])
  // Seen, then finished: now first among the finished ones, after page 1's position.
  s.emulator.patch(WF, seen[0] as string, { status: { phase: 'Succeeded', finishedAt: '2026-02-01T00:00:00Z' } })
  // Not seen (the oldest finished one), then retried: now first among the running ones, before that position.
  s.emulator.patch(WF, 'done-0', { status: { phase: 'Running', finishedAt: null } })
  const status = async (name: string) => (await s.json<{ status: { phase: string } }>(`/api/v1/workflows/argo/${name}`)).body.status.phase
  for (let i = 0; i < 100 && (await status('done-0') !== 'Running' || await status(seen[0] as string) !== 'Succeeded'); i++) await new Promise((r) => setTimeout(r, 50))
  let cont = first.body.metadata.continue ?? ''
  while (cont) {
    const next = await page(cont)
    seen.push(...(next.body.items ?? []).map((i) => i.metadata.name))
    cont = next.body.metadata.continue ?? ''
  }
  assert.deepEqual([...seen].sort(), ['done-0', 'done-1', 'done-2', 'done-3', 'run-0', 'run-1', 'run-2', 'run-3'], JSON.stringify(seen))
  // A new paging sees them where they are now.
  const fresh = await page()
  assert.equal(fresh.body.items?.[0]?.metadata.name, 'done-0')
})
