// The simulated controller's reaction to outside changes: shutdown, suspend/resume, deadlines, deletion, restarts.
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import { startRunner } from '../../emulator/runner.js'
import type { Runner, RunnerOptions } from '../../emulator/runner.js'
import type { Emulator, KubeObject, ResourceRef } from '../../emulator/types.js'

const NS = 'argo'
const WF: ResourceRef = { group: 'argoproj.io', resource: 'workflows', namespace: NS }
const PODS: ResourceRef = { group: '', resource: 'pods', namespace: NS }

type Rec = Record<string, unknown>
interface Node { id: string; name: string; type: string; phase: string; message?: string; startedAt?: string }

const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : {})
const status = (wf: KubeObject | undefined): Rec => rec(wf?.status)
const nodesOf = (wf: KubeObject | undefined): Node[] => Object.values(rec(status(wf).nodes)) as Node[]
const find = (wf: KubeObject | undefined, name: string): Node | undefined => nodesOf(wf).find((n) => n.name === name)

let emulator: Emulator | undefined
let runners: Runner[] = []
let errors: string[] = []

async function setup(opts: RunnerOptions): Promise<Emulator> {
  const em = await startEmulator({ namespaces: ['default', NS] })
  emulator = em
  runners.push(start(em, opts))
  return em
}
const start = (em: Emulator, opts: RunnerOptions): Runner => startRunner(em, { log: (m, e) => errors.push(`${m} ${String(e ?? '')}`), ...opts })
const runner = (): Runner => runners.at(-1) ?? assert.fail('no runner')

afterEach(async () => {
  for (const r of runners) await r.stop()
  await emulator?.close()
  runners = []
  emulator = undefined
  assert.deepEqual(errors, [])
  errors = []
})

const pod = (name: string, script: string): Rec => ({ name, container: { image: 'alpine', command: ['sh', '-c'], args: [script] } })
const twoSteps: Rec = {
  entrypoint: 'main',
  onExit: 'bye',
  templates: [{ name: 'main', steps: [[{ name: 'first', template: 'work' }], [{ name: 'second', template: 'work' }]] }, pod('work', 'echo working'), pod('bye', 'echo bye')],
}
const submit = (em: Emulator, spec: Rec): string => em.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: 'ctl-', namespace: NS }, spec }).metadata.name ?? ''
const get = (em: Emulator, name: string): KubeObject | undefined => em.get(WF, name)

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const running = (em: Emulator, name: string, node: string): Promise<void> => until(() => find(get(em, name), node)?.phase === 'Running', `${node} running`)

describe('runner: outside control', () => {
  it('terminates on spec.shutdown=Terminate without running the exit handler', async () => {
    const em = await setup({ stepMs: 60_000 })
    const name = submit(em, twoSteps)
    await running(em, name, `${name}[0].first`)
    em.patch(WF, name, { spec: { shutdown: 'Terminate' } })
    await runner().idle()
    const wf = get(em, name)
    assert.equal(status(wf).phase, 'Failed')
    assert.equal(status(wf).message, "Stopped with strategy 'Terminate'")
    const first = find(wf, `${name}[0].first`)
    assert.deepEqual([first?.phase, first?.message], ['Failed', "Stopped with strategy 'Terminate'"])
    assert.equal(find(wf, `${name}[1].second`), undefined)
    assert.equal(find(wf, `${name}.onExit`), undefined)
    assert.equal(em.list(PODS).filter((p) => rec(p.status).phase === 'Running').length, 0)
  })

  it('stops on spec.shutdown=Stop but still runs the exit handler', async () => {
    const em = await setup({ stepMs: 300 })
    const name = submit(em, twoSteps)
    await running(em, name, `${name}[0].first`)
    em.patch(WF, name, { spec: { shutdown: 'Stop' } })
    await runner().idle()
    const wf = get(em, name)
    assert.equal(status(wf).phase, 'Failed')
    assert.equal(status(wf).message, "Stopped with strategy 'Stop'")
    assert.equal(find(wf, `${name}.onExit`)?.phase, 'Succeeded')
  })

  it('holds new nodes while spec.suspend is set, and continues once cleared', async () => {
    const em = await setup({ stepMs: 20 })
    const name = submit(em, { ...twoSteps, suspend: true })
    await runner().idle()
    assert.equal(status(get(em, name)).phase, 'Running')
    assert.equal(nodesOf(get(em, name)).filter((n) => n.type === 'Pod').length, 0)
    em.patch(WF, name, { spec: { suspend: null } })
    await runner().idle()
    assert.equal(status(get(em, name)).phase, 'Succeeded')
  })

  it('waits on a suspend template until its node is resumed', async () => {
    const em = await setup({ stepMs: 20 })
    const name = submit(em, {
      entrypoint: 'main',
      templates: [{ name: 'main', steps: [[{ name: 'approve', template: 'gate' }], [{ name: 'after', template: 'work' }]] }, { name: 'gate', suspend: {} }, pod('work', 'echo ok')],
    })
    await runner().idle()
    const gate = find(get(em, name), `${name}[0].approve`)
    assert.deepEqual([gate?.type, gate?.phase, status(get(em, name)).phase], ['Suspend', 'Running', 'Running'])
    // what `argo resume` does: mark the suspended node Succeeded
    em.patch(WF, name, { status: { nodes: { [gate?.id ?? '']: { phase: 'Succeeded', finishedAt: new Date().toISOString() } } } })
    await runner().idle()
    assert.equal(status(get(em, name)).phase, 'Succeeded')
    assert.equal(find(get(em, name), `${name}[1].after`)?.phase, 'Succeeded')
  })

  it('fails a workflow past spec.activeDeadlineSeconds', async () => {
    const em = await setup({ stepMs: 60_000 })
    const name = submit(em, { ...twoSteps, activeDeadlineSeconds: 1 })
    await until(() => status(get(em, name)).phase === 'Failed', 'deadline', 5000)
    await runner().idle()
    const wf = get(em, name)
    assert.equal(status(wf).message, 'Step exceeded its deadline')
    assert.equal(find(wf, `${name}[0].first`)?.phase, 'Failed')
  })

  it('drops a workflow deleted mid-run and keeps serving others', async () => {
    const em = await setup({ stepMs: 100 })
    const name = submit(em, twoSteps)
    await running(em, name, `${name}[0].first`)
    em.remove(WF, name)
    await runner().idle()
    assert.equal(get(em, name), undefined)
    assert.deepEqual(em.list(PODS).filter((p) => p.metadata.labels?.['workflows.argoproj.io/workflow'] === name), [])
    const next = submit(em, twoSteps)
    await runner().idle()
    assert.equal(status(get(em, next)).phase, 'Succeeded')
  })

  it('resumes a Running workflow after a restart, keeping finished nodes', async () => {
    const em = await setup({ stepMs: 150 })
    const name = submit(em, twoSteps)
    await until(() => find(get(em, name), `${name}[0].first`)?.phase === 'Succeeded', 'first step done')
    await runner().stop()
    const before = find(get(em, name), `${name}[0].first`)
    runners.push(start(em, { stepMs: 20 }))
    await runner().idle()
    const wf = get(em, name)
    assert.equal(status(wf).phase, 'Succeeded')
    assert.equal(find(wf, `${name}[0].first`)?.startedAt, before?.startedAt)
    assert.equal(find(wf, `${name}[1].second`)?.phase, 'Succeeded')
    assert.equal(nodesOf(wf).filter((n) => n.name.endsWith('.first')).length, 1)
  })

  it('labels completed workflows for archiving when asked to', async () => {
    const em = await setup({ stepMs: 20, archiveLabels: true })
    const name = submit(em, twoSteps)
    await runner().idle()
    assert.equal(get(em, name)?.metadata.labels?.['workflows.argoproj.io/workflow-archiving-status'], 'Pending')
  })

  it('only runs workflows in its namespaces', async () => {
    const em = await setup({ stepMs: 20, namespaces: ['default'] })
    const name = submit(em, twoSteps)
    await runner().idle()
    assert.equal(status(get(em, name)).phase, undefined)
  })
})
