/** The real kubectl (/usr/bin/kubectl) against the emulator over TLS, with bearer tokens. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { WF } from './helpers.js'

const KUBECTL = '/usr/bin/kubectl'
let emu: Emulator
let dir: string
let adminKc: string
let readerKc: string

interface Run { code: number; stdout: string; stderr: string }

function kubectl(kubeconfig: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

before(async () => {
  emu = await startEmulator({
    tls: true,
    namespaces: ['argo', 'default'],
    users: [{ token: 'reader', username: 'system:serviceaccount:argo:reader', rules: [{ verbs: ['get', 'list'], apiGroups: ['argoproj.io'], resources: ['workflows'], namespaces: ['argo'] }] }],
  })
  dir = await mkdtemp(join(tmpdir(), 'emu-kubectl-'))
  adminKc = await emu.writeKubeconfig(join(dir, 'admin.yaml'), undefined, 'argo')
  readerKc = await emu.writeKubeconfig(join(dir, 'reader.yaml'), 'reader', 'argo')
})
after(async () => {
  await emu.close()
  await rm(dir, { recursive: true, force: true })
})

test('the kubeconfig points at https with the emulator CA', () => {
  assert.match(emu.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  assert.match(emu.caPem ?? '', /BEGIN CERTIFICATE/)
  assert.match(emu.kubeconfig(), /certificate-authority-data: /)
})

test('kubectl create -f, get (table, name, json, label selector), delete', async () => {
  const file = join(dir, 'wf.yaml')
  await writeFile(file, [
    'apiVersion: argoproj.io/v1alpha1',
    'kind: Workflow',
    'metadata:',
    '  name: hello',
    '  labels: {app: demo}',
    'spec:',
    '  entrypoint: main',
  ].join('\n'))
  const created = await kubectl(adminKc, 'create', '-f', file)
  assert.equal(created.code, 0, created.stderr)
  assert.equal(created.stdout.trim(), 'workflow.argoproj.io/hello created')

  const table = await kubectl(adminKc, 'get', 'wf', '-n', 'argo')
  assert.equal(table.code, 0, table.stderr)
  assert.match(table.stdout, /^NAME\s+AGE\nhello\s+\d+s\n$/)

  const names = await kubectl(adminKc, 'get', 'workflows.argoproj.io', '-o', 'name', '-l', 'app=demo')
  assert.equal(names.stdout.trim(), 'workflow.argoproj.io/hello')
  const none = await kubectl(adminKc, 'get', 'wf', '-l', 'app=other', '-o', 'name')
  assert.equal(none.stdout.trim(), '')

  const json = await kubectl(adminKc, 'get', 'wf', 'hello', '-o', 'json')
  const obj = JSON.parse(json.stdout) as { metadata: { uid: string }; spec: unknown }
  assert.deepEqual(obj.spec, { entrypoint: 'main' })
  assert.equal(emu.get({ ...WF, namespace: 'argo' }, 'hello')?.metadata.uid, obj.metadata.uid)

  const patched = await kubectl(adminKc, 'patch', 'wf', 'hello', '--type', 'merge', '-p', '{"spec":{"x":1}}')
  assert.equal(patched.code, 0, patched.stderr)

  const dup = await kubectl(adminKc, 'create', '-f', file)
  assert.notEqual(dup.code, 0)
  assert.match(dup.stderr, /workflows\.argoproj\.io "hello" already exists/)

  const deleted = await kubectl(adminKc, 'delete', 'wf', 'hello')
  assert.equal(deleted.code, 0, deleted.stderr)
  assert.equal(deleted.stdout.trim(), 'workflow.argoproj.io "hello" deleted')
  assert.equal(emu.get({ ...WF, namespace: 'argo' }, 'hello'), undefined)
  const gone = await kubectl(adminKc, 'get', 'wf', 'hello')
  assert.match(gone.stderr, /workflows\.argoproj\.io "hello" not found/)
})

test('kubectl auth can-i and whoami use the caller’s rights', async () => {
  const yes = await kubectl(readerKc, 'auth', 'can-i', 'list', 'wf', '-n', 'argo')
  assert.equal(yes.code, 0)
  assert.equal(yes.stdout.trim(), 'yes')
  const no = await kubectl(readerKc, 'auth', 'can-i', 'delete', 'workflows', '-n', 'argo')
  assert.equal(no.stdout.trim(), 'no')
  assert.notEqual(no.code, 0)
  const admin = await kubectl(adminKc, 'auth', 'can-i', 'delete', 'cwftmpl')
  assert.equal(admin.stdout.trim(), 'yes')
  const who = await kubectl(readerKc, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')
  assert.equal(who.stdout, 'system:serviceaccount:argo:reader')
})

test('kubectl shows the apiserver’s Forbidden message', async () => {
  const r = await kubectl(readerKc, 'get', 'wf', '-n', 'default')
  assert.notEqual(r.code, 0)
  assert.match(r.stderr, /workflows\.argoproj\.io is forbidden: User "system:serviceaccount:argo:reader" cannot list resource "workflows" in API group "argoproj\.io" in the namespace "default"/)
})

test('kubectl built-in types (protobuf bodies), logs and namespace deletion', async () => {
  assert.equal((await kubectl(adminKc, 'create', 'namespace', 'scratch')).code, 0)
  const cm = await kubectl(adminKc, 'create', 'configmap', 'cfg', '-n', 'scratch', '--from-literal=k=v')
  assert.equal(cm.code, 0, cm.stderr)
  const val = await kubectl(adminKc, 'get', 'cm', 'cfg', '-n', 'scratch', '-o', 'jsonpath={.data.k}')
  assert.equal(val.stdout, 'v')
  emu.create({ group: '', resource: 'pods', namespace: 'scratch' }, { metadata: { name: 'p' }, spec: { containers: [{ name: 'main' }] }, status: { phase: 'Succeeded' } })
  emu.appendPodLog('scratch', 'p', 'main', 'from the pod')
  const logs = await kubectl(adminKc, 'logs', 'p', '-n', 'scratch')
  assert.equal(logs.stdout, 'from the pod\n')
  const del = await kubectl(adminKc, 'delete', 'namespace', 'scratch')
  assert.equal(del.code, 0, del.stderr)
  assert.equal(emu.list({ group: '', resource: 'configmaps', namespace: 'scratch' }).length, 0)
})
