import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startStack } from '../harness/stack.js'

test('unknown /api routes and methods are 501 code 12 before authentication; other paths serve the index page', async (t) => {
  const s = await startStack(t)
  for (const [method, path] of [['GET', '/api/v1/nothing'], ['PATCH', '/api/v1/workflows/argo/x'], ['OPTIONS', '/api/v1/workflows/argo'], ['PUT', '/api/v1/workflows/argo']] as const) {
    const res = await s.json(path, { method, token: null })
    assert.equal(res.status, 501, `${method} ${path}`)
    assert.deepEqual(res.body, { code: 12, message: 'Not Implemented' })
  }
  // No HEAD either (grpc-gateway registers none): a stream's HEAD used to answer 200 and never end.
  for (const path of ['/api/v1/info', '/api/v1/workflow-events/argo', '/api/v1/workflows/argo/x/log']) {
    const res = await s.req(path, { method: 'HEAD', token: null })
    assert.equal(res.status, 501, `HEAD ${path}`)
  }
  const root = await s.req('/', { token: null })
  assert.equal(root.status, 200)
  assert.match(root.headers.get('content-type') ?? '', /text\/html/)
})

test('info and version answer upstream shapes; the version header is on successes', async (t) => {
  const s = await startStack(t)
  const info = await s.json<{ modals: Record<string, boolean> }>('/api/v1/info')
  assert.equal(info.status, 200)
  assert.deepEqual(info.body.modals, { feedback: true, firstTimeUser: true, newVersion: true })
  const version = await s.json<{ version: string }>('/api/v1/version')
  assert.equal(version.headers.get('grpc-metadata-argo-version'), version.body.version)
  // Successes and errors alike, as upstream's gateway: not fastify's `application/json; charset=utf-8` (spec §2.1).
  assert.equal(version.headers.get('content-type'), 'application/json')
  for (const path of ['/api/v1/workflows/argo', '/api/v1/workflows/argo/missing', '/api/v1/nothing', '/api/v1/workflows/argo?listOptions.limit=x',
    '/api/v1/workflows/argo/%E0%A4%A', `/api/v1/workflows/argo/${'a'.repeat(300)}`]) {
    assert.equal((await s.req(path)).headers.get('content-type'), 'application/json', path)
  }
  assert.equal((await s.req('/api/v1/workflows/argo', { token: 'garbage' })).headers.get('content-type'), 'application/json')
  assert.match(version.body.version, /^v\d+\.\d+\.\d+/)
})

test('the configmap supplies instanceID, links, columns and navColor', async (t) => {
  const s = await startStack(t)
  // The configmap is read once at start: start a second server after writing it.
  s.emulator.create({ group: '', resource: 'configmaps', namespace: 'argo' }, {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workflow-controller-configmap' },
    data: { config: 'instanceID: i1\nnavColor: red\nlinks:\n- name: Logs\n  scope: workflow\n  url: https://logs/${metadata.name}\ncolumns:\n- name: Team\n  type: label\n  key: team\n' },
  })
  const { createServer } = await import('../../src/server.js')
  const { parseConfig } = await import('../../src/config/parse.js')
  const { writeFile, mkdtemp, rm } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const dir = await mkdtemp(join(tmpdir(), 'cm-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(kubeconfig, s.emulator.kubeconfig())
  const server = await createServer(parseConfig(['--secure=false', '--auth-mode=server', '--kubeconfig', kubeconfig], {}), { kind: 'file', path: kubeconfig })
  t.after(() => server.close())
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' })
  const info = await (await fetch(`${url}/api/v1/info`)).json() as Record<string, unknown>
  assert.equal(info.navColor, 'red')
  assert.deepEqual(info.links, [{ name: 'Logs', scope: 'workflow', url: 'https://logs/${metadata.name}' }])
  assert.deepEqual(info.columns, [{ name: 'Team', type: 'label', key: 'team' }])
  const created = await (await fetch(`${url}/api/v1/workflows/argo`, { method: 'POST', body: JSON.stringify({ workflow: { metadata: { name: 'i' }, spec: { entrypoint: 'm', templates: [{ name: 'm', container: { image: 'x' } }] } } }) })).json() as { metadata: { labels: Record<string, string> } }
  assert.equal(created.metadata.labels['workflows.argoproj.io/controller-instanceid'], 'i1')
})

test('a Kubernetes API that drops the connection is 503 code 14, without the API\'s address; a namespace no API could hold is 400', async (t) => {
  const s = await startStack(t, { database: true })
  s.emulator.fault({ path: /\/workflowtemplates\/dropped$/, cut: true })
  const r = await s.json<{ code: number; message: string }>('/api/v1/workflow-templates/argo/dropped')
  assert.equal(r.status, 503)
  assert.equal(r.body.code, 14)
  const api = new URL(s.emulator.url)
  assert.ok(!r.body.message.includes(api.host) && !r.body.message.includes('http'), r.body.message)
  // A body's namespace longer than any name Kubernetes accepts: 400 before any call, in the contract's shape.
  for (const action of ['retry', 'resubmit']) {
    const long = await s.json<{ code: number }>(`/api/v1/archived-workflows/some-uid/${action}`, { method: 'PUT', json: { namespace: 'n'.repeat(20_000) } })
    assert.deepEqual([long.status, long.body.code], [400, 3])
  }
})
