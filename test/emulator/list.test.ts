import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { call, meta, wf, WF, WF_PATH } from './helpers.js'

let emu: Emulator
before(async () => {
  emu = await startEmulator({ namespaces: ['argo', 'other'] })
  const labels: Record<string, Record<string, string>> = {
    a: { env: 'prod', tier: 'web', n: '5' },
    b: { env: 'dev', tier: 'db', n: '10' },
    c: { env: 'prod', n: 'x' },
    d: {},
  }
  for (const [name, l] of Object.entries(labels)) emu.create({ ...WF, namespace: 'argo' }, wf(name, l))
  emu.create({ ...WF, namespace: 'other' }, wf('a', { env: 'prod' }))
})
after(() => emu.close())

async function names(path: string): Promise<string[]> {
  const r = await call(emu, 'GET', path)
  assert.equal(r.status, 200, r.text)
  return (r.json.items as { metadata: { namespace: string; name: string } }[]).map((i) => `${i.metadata.namespace}/${i.metadata.name}`)
}

function sel(s: string): string {
  return `${WF_PATH}?labelSelector=${encodeURIComponent(s)}`
}

test('lists are sorted by namespace then name, across namespaces too', async () => {
  assert.deepEqual(await names(WF_PATH), ['argo/a', 'argo/b', 'argo/c', 'argo/d'])
  assert.deepEqual(await names('/apis/argoproj.io/v1alpha1/workflows'), ['argo/a', 'argo/b', 'argo/c', 'argo/d', 'other/a'])
  const r = await call(emu, 'GET', WF_PATH)
  assert.equal(r.json.kind, 'WorkflowList')
  assert.match(String(meta(r.json).resourceVersion), /^\d+$/)
})

test('label selectors: every operator', async () => {
  assert.deepEqual(await names(sel('env=prod')), ['argo/a', 'argo/c'])
  assert.deepEqual(await names(sel('env==prod,tier=web')), ['argo/a'])
  assert.deepEqual(await names(sel('env!=prod')), ['argo/b', 'argo/d'])
  assert.deepEqual(await names(sel('tier in (web,db)')), ['argo/a', 'argo/b'])
  assert.deepEqual(await names(sel('tier notin (web)')), ['argo/b', 'argo/c', 'argo/d'])
  assert.deepEqual(await names(sel('tier')), ['argo/a', 'argo/b'])
  assert.deepEqual(await names(sel('!tier')), ['argo/c', 'argo/d'])
  assert.deepEqual(await names(sel('n>6')), ['argo/b'])
  assert.deepEqual(await names(sel('n<6')), ['argo/a'])
})

test('bad label selector → 400 BadRequest', async () => {
  const r = await call(emu, 'GET', sel('env in prod'))
  assert.equal(r.status, 400)
  assert.equal(r.json.reason, 'BadRequest')
  const q = await call(emu, 'GET', sel('env="x"'))
  assert.equal(q.status, 400)
})

test('field selectors: metadata.name / namespace, pods status.phase, events involvedObject; unsupported → 400', async () => {
  assert.deepEqual(await names(`${WF_PATH}?fieldSelector=metadata.name%3Db`), ['argo/b'])
  assert.deepEqual(await names(`${WF_PATH}?fieldSelector=metadata.name!%3Db,metadata.name!%3Dc`), ['argo/a', 'argo/d'])
  assert.deepEqual(await names('/apis/argoproj.io/v1alpha1/workflows?fieldSelector=metadata.namespace%3D%3Dother'), ['other/a'])
  const bad = await call(emu, 'GET', `${WF_PATH}?fieldSelector=spec.foo%3D1`)
  assert.equal(bad.status, 400)
  assert.equal(bad.json.message, 'field label not supported: spec.foo')

  const pods = { group: '', resource: 'pods', namespace: 'argo' }
  emu.create(pods, { metadata: { name: 'p1' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } })
  emu.create(pods, { metadata: { name: 'p2' }, spec: { nodeName: 'n2' }, status: { phase: 'Succeeded' } })
  assert.deepEqual(await names('/api/v1/namespaces/argo/pods?fieldSelector=status.phase%3DRunning'), ['argo/p1'])
  assert.deepEqual(await names('/api/v1/pods?fieldSelector=spec.nodeName%3Dn2'), ['argo/p2'])

  const events = { group: '', resource: 'events', namespace: 'argo' }
  emu.create(events, { metadata: { name: 'e1' }, involvedObject: { kind: 'Workflow', name: 'a', uid: 'u1' }, reason: 'Started', type: 'Normal' })
  emu.create(events, { metadata: { name: 'e2' }, involvedObject: { kind: 'Pod', name: 'p1' }, reason: 'Failed', type: 'Warning' })
  assert.deepEqual(await names('/api/v1/namespaces/argo/events?fieldSelector=involvedObject.kind%3DWorkflow,involvedObject.name%3Da'), ['argo/e1'])
  assert.deepEqual(await names('/api/v1/namespaces/argo/events?fieldSelector=type%3DWarning'), ['argo/e2'])
  assert.deepEqual(await names('/api/v1/namespaces/argo/events?fieldSelector=involvedObject.uid%3Du1,reason%3DStarted'), ['argo/e1'])
})

test('limit/continue pages 1,000 objects with no loss or duplicates, despite concurrent writes', async () => {
  const ref = { ...WF, namespace: 'paging' }
  for (let i = 0; i < 1000; i++) emu.create(ref, wf(`w-${String(i).padStart(4, '0')}`))
  const path = '/apis/argoproj.io/v1alpha1/namespaces/paging/workflows'
  const seen: string[] = []
  let cont = ''
  let listRv = ''
  let pages = 0
  for (;;) {
    const r = await call(emu, 'GET', `${path}?limit=64${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`)
    assert.equal(r.status, 200)
    const m = meta(r.json)
    if (!listRv) listRv = String(m.resourceVersion)
    assert.equal(m.resourceVersion, listRv, 'every page reports the snapshot resourceVersion')
    seen.push(...(r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name))
    pages++
    // writes between pages: a new object is not part of the snapshot, an earlier one going does not shift pages
    emu.create(ref, wf(`x-new-${pages}`))
    if (pages === 3) emu.remove(ref, 'w-0000')
    if (!m.continue) {
      assert.equal(m.remainingItemCount, undefined)
      break
    }
    assert.equal(typeof m.remainingItemCount, 'number')
    cont = String(m.continue)
  }
  assert.equal(pages, 16)
  assert.equal(seen.length, 1000)
  assert.equal(new Set(seen).size, 1000)
  assert.deepEqual(seen, [...seen].sort())
})

test('limit with a label selector returns only matches and a working continue token', async () => {
  const first = await call(emu, 'GET', `${sel('env')}&limit=2`)
  assert.deepEqual((first.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['a', 'b'])
  const cont = String(meta(first.json).continue)
  const second = await call(emu, 'GET', `${sel('env')}&limit=2&continue=${encodeURIComponent(cont)}`)
  assert.deepEqual((second.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['c'])
  assert.equal(meta(second.json).continue, undefined)
})

test('an invalid continue token → 400', async () => {
  const r = await call(emu, 'GET', `${WF_PATH}?limit=1&continue=garbage!!`)
  assert.equal(r.status, 400)
  assert.equal(r.json.reason, 'BadRequest')
})

test('Table format for kubectl', async () => {
  const r = await call(emu, 'GET', WF_PATH, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })
  assert.equal(r.json.kind, 'Table')
  assert.deepEqual((r.json.columnDefinitions as { name: string }[]).map((c) => c.name), ['Name', 'Age'])
  const rows = r.json.rows as { cells: unknown[]; object: { metadata: { name: string } } }[]
  assert.deepEqual(rows.map((x) => x.cells[0]), ['a', 'b', 'c', 'd'])
  assert.equal(rows[0]?.object.metadata.name, 'a')
})

test('deletecollection removes only matching objects', async () => {
  const ref = { ...WF, namespace: 'dc' }
  for (const n of ['k1', 'k2', 'k3']) emu.create(ref, wf(n, { del: n === 'k3' ? 'no' : 'yes' }))
  const r = await call(emu, 'DELETE', '/apis/argoproj.io/v1alpha1/namespaces/dc/workflows?labelSelector=del%3Dyes')
  assert.equal(r.status, 200)
  assert.deepEqual(emu.list(ref).map((o) => o.metadata.name), ['k3'])
})

test('clients aborting mid-stream or sending garbage do not hurt the server', async () => {
  const ref = { ...WF, namespace: 'big' }
  const spec = { blob: 'x'.repeat(20_000) }
  for (let i = 0; i < 500; i++) emu.create(ref, { metadata: { name: `b-${i}` }, spec })
  const ac = new AbortController()
  const res = await fetch(`${emu.url}/apis/argoproj.io/v1alpha1/namespaces/big/workflows`, { headers: { authorization: `Bearer ${emu.adminToken}` }, signal: ac.signal })
  const reader = res.body?.getReader()
  await reader?.read()
  ac.abort()
  const { connect } = await import('node:net')
  const port = Number(new URL(emu.url).port)
  await new Promise<void>((resolve) => {
    const sock = connect(port, '127.0.0.1', () => sock.end('GARBAGE \u0000\r\n\r\n'))
    sock.on('close', () => resolve())
    sock.on('error', () => resolve())
  })
  const r = await call(emu, 'GET', '/apis/argoproj.io/v1alpha1/namespaces/big/workflows?limit=1')
  assert.equal(r.status, 200)
  assert.equal(meta(r.json).remainingItemCount, 499)
})
