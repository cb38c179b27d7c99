import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import { call, meta, wf, WF, WF_PATH } from './helpers.js'

// resourceVersionMatch=Exact: the objects as they were at a past resourceVersion (served from etcd while that
// revision is not compacted), what a server needs to tell a reconnecting client what changed since.

type Item = { metadata: { name: string; resourceVersion: string; labels?: Record<string, string> } }

test('a list at an exact past resourceVersion shows the objects as they were then, page by page; 410 once compacted', async (t) => {
  const emu = await startEmulator({ namespaces: ['argo', 'other'] })
  t.after(() => emu.close())
  const ARGO = { ...WF, namespace: 'argo' }
  const kept = emu.create(ARGO, wf('kept'))
  const changed = emu.create(ARGO, wf('changed', { v: '1' }))
  const deleted = emu.create(ARGO, wf('deleted'))
  emu.create({ ...WF, namespace: 'other' }, wf('elsewhere'))
  const at = String(meta((await call(emu, 'GET', WF_PATH)).json).resourceVersion)
  emu.patch(ARGO, 'changed', { metadata: { labels: { v: '2' } } })
  emu.remove(ARGO, 'deleted')
  emu.create(ARGO, wf('created'))
  emu.remove(ARGO, 'kept')
  emu.create(ARGO, wf('kept')) // deleted and created again since: its old incarnation is what was there

  const exact = async (path: string) => {
    const r = await call(emu, 'GET', path)
    assert.equal(r.status, 200, r.text)
    return { items: r.json.items as Item[], rv: String(meta(r.json).resourceVersion), cont: meta(r.json).continue as string | undefined }
  }
  const all = await exact(`${WF_PATH}?resourceVersion=${at}&resourceVersionMatch=Exact`)
  assert.equal(all.rv, at)
  assert.deepEqual(all.items.map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`),
    [changed, deleted, kept].map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`))
  assert.deepEqual(all.items[0]?.metadata.labels, { v: '1' })
  // With a selector, and across all namespaces
  assert.deepEqual((await exact(`${WF_PATH}?resourceVersion=${at}&resourceVersionMatch=Exact&labelSelector=v%3D1`)).items.map((i) => i.metadata.name), ['changed'])
  assert.deepEqual((await exact(`/apis/argoproj.io/v1alpha1/workflows?resourceVersion=${at}&resourceVersionMatch=Exact`)).items.map((i) => i.metadata.name), ['changed', 'deleted', 'kept', 'elsewhere'])
  // Paged: the continue token keeps to that version
  const p1 = await exact(`${WF_PATH}?resourceVersion=${at}&resourceVersionMatch=Exact&limit=2`)
  assert.deepEqual(p1.items.map((i) => i.metadata.name), ['changed', 'deleted'])
  assert.ok(p1.cont)
  emu.remove(ARGO, 'created')
  const p2 = await exact(`${WF_PATH}?limit=2&continue=${encodeURIComponent(p1.cont)}`)
  assert.deepEqual(p2.items.map((i) => i.metadata.name), ['kept'])
  assert.equal(p2.items[0]?.metadata.resourceVersion, kept.metadata.resourceVersion)
  // The current list is unchanged by all this
  assert.deepEqual((await exact(WF_PATH)).items.map((i) => i.metadata.name), ['changed', 'kept'])

  // Validation as the apiserver's
  for (const [q, status, message] of [
    ['resourceVersionMatch=Exact', 400, /forbidden unless resourceVersion is provided/],
    ['resourceVersion=0&resourceVersionMatch=Exact', 400, /forbidden for resourceVersion "0"/],
    ['resourceVersion=1&resourceVersionMatch=Sometimes', 400, /Unsupported value/],
    ['resourceVersion=x&resourceVersionMatch=Exact', 400, /invalid resource version/],
    ['resourceVersion=999999&resourceVersionMatch=Exact', 504, /Too large resource version/],
  ] as const) {
    const r = await call(emu, 'GET', `${WF_PATH}?${q}`)
    assert.equal(r.status, status, q)
    assert.match(String(r.json.message), message)
  }
  emu.compact()
  const gone = await call(emu, 'GET', `${WF_PATH}?resourceVersion=${at}&resourceVersionMatch=Exact`)
  assert.equal(gone.status, 410)
  assert.equal(gone.json.reason, 'Expired')
  const goneCont = await call(emu, 'GET', `${WF_PATH}?limit=2&continue=${encodeURIComponent(p1.cont)}`)
  assert.equal(goneCont.status, 410)
})
