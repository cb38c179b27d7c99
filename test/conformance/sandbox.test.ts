import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort } from '../../src/sandbox/postgres.js'

test('with no cluster configured, the server starts the sandbox from a clean folder and runs a workflow to Succeeded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-'))
  const home = await mkdtemp(join(tmpdir(), 'home-'))
  const port = await freePort()
  const env = { ...process.env, HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--port', String(port), '--sandbox-dir', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(async () => {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    await rm(dir, { recursive: true, force: true })
    await rm(home, { recursive: true, force: true })
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  for (let i = 0; i < 600 && !out.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100))
  assert.match(out, /Sandbox/)
  assert.match(out, /listening on http:\/\/127\.0\.0\.1:/, 'plain HTTP on loopback')
  assert.ok((await readdir(dir)).includes('postgres'), 'data is kept in the sandbox folder')

  const base = `http://127.0.0.1:${port}`
  const wf = { metadata: { generateName: 'hello-world-' }, spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command: ['echo', 'hello world'] } }] } }
  const created = await fetch(`${base}/api/v1/workflows/argo`, { method: 'POST', body: JSON.stringify({ workflow: wf }) })
  assert.equal(created.status, 200, 'server auth mode: no token needed')
  const name = ((await created.json()) as { metadata: { name: string } }).metadata.name
  let phase = ''
  let nodes: Record<string, { type: string; phase: string }> = {}
  for (let i = 0; i < 300 && phase !== 'Succeeded' && phase !== 'Failed'; i++) {
    await new Promise((r) => setTimeout(r, 100))
    const got = (await (await fetch(`${base}/api/v1/workflows/argo/${name}`)).json()) as { status: { phase?: string; nodes?: typeof nodes } }
    phase = got.status.phase ?? ''
    nodes = got.status.nodes ?? {}
  }
  assert.equal(phase, 'Succeeded')
  assert.ok(Object.values(nodes).some((n) => n.type === 'Pod' && n.phase === 'Succeeded'))
})
