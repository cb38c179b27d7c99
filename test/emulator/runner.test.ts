// The simulated controller + kubelet (emulator/runner.ts), driven against the real emulator.
import { after, afterEach, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadAll } from 'js-yaml'
import { startEmulator } from '../../emulator/index.js'
import { startRunner } from '../../emulator/runner.js'
import type { Runner, RunnerOptions } from '../../emulator/runner.js'
import { fnv32a } from '../../emulator/runner-util.js'
import type { Emulator, KubeObject, ResourceRef } from '../../emulator/types.js'

const NS = 'argo'
const EXAMPLES = '/work/shared/argo/examples'
const WF: ResourceRef = { group: 'argoproj.io', resource: 'workflows', namespace: NS }
const WFT: ResourceRef = { group: 'argoproj.io', resource: 'workflowtemplates', namespace: NS }
const PODS: ResourceRef = { group: '', resource: 'pods', namespace: NS }
const EVENTS: ResourceRef = { group: '', resource: 'events', namespace: NS }

type Rec = Record<string, unknown>
interface Node {
  id: string
  name: string
  displayName: string
  type: string
  phase: string
  templateName?: string
  templateScope?: string
  boundaryID?: string
  message?: string
  children?: string[]
  outboundNodes?: string[]
  progress: string
  hostNodeName?: string
  inputs?: { parameters?: { name: string; value?: string }[] }
  outputs?: Rec
}
interface Ctx {
  em: Emulator
  runner: Runner
  errors: string[]
  close(): Promise<void>
}

const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : {})

async function setup(opts: RunnerOptions = {}, em?: Emulator): Promise<Ctx> {
  const emulator = em ?? (await startEmulator({ namespaces: ['default', NS] }))
  const errors: string[] = []
  const runner = startRunner(emulator, { stepMs: 20, log: (msg, err) => errors.push(`${msg} ${String(err ?? '')}`), ...opts })
  return { em: emulator, runner, errors, close: async () => { await runner.stop(); await emulator.close() } }
}

const load = (file: string): KubeObject[] =>
  (loadAll(readFileSync(join(EXAMPLES, file), 'utf8')) as unknown[]).map((d) => rec(d) as KubeObject)

const example = (file: string): KubeObject => load(file)[0] ?? { metadata: {} }

const wfOf = (spec: Rec, generateName = 'test-'): KubeObject => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName }, spec })

const submit = (em: Emulator, wf: KubeObject): string => em.create(WF, { ...wf, metadata: { ...wf.metadata, namespace: NS } }).metadata.name ?? ''

async function runToEnd(ctx: Ctx, wf: KubeObject): Promise<KubeObject> {
  const name = submit(ctx.em, wf)
  await ctx.runner.idle()
  return ctx.em.get(WF, name) ?? assert.fail(`workflow ${name} vanished`)
}

const status = (wf: KubeObject): Rec => rec(wf.status)
const nodesOf = (wf: KubeObject): Node[] => Object.values(rec(status(wf).nodes)) as Node[]
const node = (wf: KubeObject, name: string): Node => nodesOf(wf).find((n) => n.name === name) ?? assert.fail(`no node ${name}`)
const idOf = (wf: string, nodeName: string): string => `${wf}-${fnv32a(nodeName)}`

async function podLog(em: Emulator, pod: string, container = 'main'): Promise<string> {
  const res = await fetch(`${em.url}/api/v1/namespaces/${NS}/pods/${pod}/log?container=${container}`, { headers: { authorization: `Bearer ${em.adminToken}` } })
  assert.equal(res.status, 200, `log of ${pod}/${container}`)
  return res.text()
}

const container = (image: string, script: string): Rec => ({ container: { image, command: ['sh', '-c'], args: [script] } })

describe('runner: walking templates', () => {
  let ctx: Ctx
  before(async () => { ctx = await setup() })
  after(async () => { await ctx.close() })
  afterEach(() => assert.deepEqual(ctx.errors, []))

  it('runs hello-world: one Pod node, a pod with logs, labels, conditions and events', async () => {
    const phases: string[] = []
    const unsubscribe = ctx.em.subscribe(WF, (type, o) => {
      const p = String(status(o).phase ?? '')
      if (type === 'MODIFIED' && phases.at(-1) !== p) phases.push(p)
    })
    const wf = await runToEnd(ctx, example('hello-world.yaml'))
    unsubscribe()
    const name = wf.metadata.name ?? ''
    const s = status(wf)
    assert.deepEqual(phases, ['Pending', 'Running', 'Succeeded'])
    assert.equal(s.progress, '1/1')
    assert.deepEqual(s.conditions, [{ type: 'PodRunning', status: 'False' }, { type: 'Completed', status: 'True' }])
    assert.equal(typeof s.finishedAt, 'string')
    assert.equal(wf.metadata.labels?.['workflows.argoproj.io/completed'], 'true')
    assert.equal(wf.metadata.labels?.['workflows.argoproj.io/phase'], 'Succeeded')
    assert.equal(wf.metadata.labels?.['workflows.argoproj.io/workflow-archiving-status'], undefined)
    const nodes = nodesOf(wf)
    assert.equal(nodes.length, 1)
    assert.deepEqual(
      { id: nodes[0]?.id, type: nodes[0]?.type, templateName: nodes[0]?.templateName, scope: nodes[0]?.templateScope, phase: nodes[0]?.phase, progress: nodes[0]?.progress, host: nodes[0]?.hostNodeName, exit: nodes[0]?.outputs?.exitCode },
      { id: name, type: 'Pod', templateName: 'hello-world', scope: `local/${name}`, phase: 'Succeeded', progress: '1/1', host: 'sandbox-node', exit: '0' },
    )
    const pod = ctx.em.get(PODS, name) ?? assert.fail('no pod')
    assert.equal(rec(pod.status).phase, 'Succeeded')
    assert.equal(pod.metadata.labels?.['workflows.argoproj.io/workflow'], name)
    assert.equal(pod.metadata.labels?.['workflows.argoproj.io/completed'], 'true')
    assert.equal(pod.metadata.annotations?.['workflows.argoproj.io/node-name'], name)
    assert.equal(rec((pod.metadata.ownerReferences as unknown[])[0]).uid, wf.metadata.uid)
    assert.deepEqual((rec(pod.spec).containers as Rec[]).map((c) => c.name).sort(), ['main', 'wait'])
    assert.equal((await podLog(ctx.em, name)).trim(), 'hello world')
    assert.match(await podLog(ctx.em, name, 'wait'), /Starting Workflow Executor/)
    const events = ctx.em.list(EVENTS).filter((e) => rec(e.involvedObject).name === name)
    const reasons = events.map((e) => e.reason)
    for (const r of ['WorkflowRunning', 'WorkflowNodeRunning', 'WorkflowNodeSucceeded', 'WorkflowSucceeded']) assert.ok(reasons.includes(r), `event ${r} in ${reasons.join()}`)
    for (const e of events) {
      assert.deepEqual(rec(e.involvedObject), { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name, namespace: NS, uid: wf.metadata.uid })
      assert.equal(rec(e.source).component, 'workflow-controller')
      assert.equal(e.count, 1)
    }
  })

  it('runs steps.yaml: Steps → chained StepGroups → Pods, ids and pod names as upstream', async () => {
    const wf = await runToEnd(ctx, example('steps.yaml'))
    const n = wf.metadata.name ?? ''
    assert.equal(status(wf).phase, 'Succeeded')
    assert.equal(status(wf).progress, '3/3')
    assert.equal(nodesOf(wf).length, 6)
    assert.ok(nodesOf(wf).every((x) => x.phase === 'Succeeded'))
    const root = node(wf, n)
    const [sg0, sg1] = [node(wf, `${n}[0]`), node(wf, `${n}[1]`)]
    const [h1, h2a, h2b] = [node(wf, `${n}[0].hello1`), node(wf, `${n}[1].hello2a`), node(wf, `${n}[1].hello2b`)]
    assert.equal(root.type, 'Steps')
    assert.deepEqual(root.children, [sg0.id])
    assert.deepEqual([sg0.type, sg0.displayName, sg0.boundaryID, sg0.children], ['StepGroup', '[0]', n, [h1.id]])
    assert.equal(h1.id, idOf(n, `${n}[0].hello1`))
    assert.deepEqual([h1.type, h1.displayName, h1.templateName, h1.boundaryID, h1.children], ['Pod', 'hello1', 'print-message', n, [sg1.id]])
    assert.deepEqual(h1.inputs?.parameters, [{ name: 'message', value: 'hello1' }])
    assert.deepEqual(sg1.children, [h2a.id, h2b.id])
    assert.deepEqual(root.outboundNodes, [h2a.id, h2b.id])
    assert.equal(root.progress, '3/3')
    const pod = `${n}-print-message-${fnv32a(h2a.name)}`
    assert.ok(ctx.em.get(PODS, pod))
    assert.equal((await podLog(ctx.em, pod)).trim(), 'hello2a')
  })

  it('runs dag-diamond.yaml: tasks linked through their dependencies', async () => {
    const wf = await runToEnd(ctx, example('dag-diamond.yaml'))
    const n = wf.metadata.name ?? ''
    assert.equal(status(wf).phase, 'Succeeded')
    const [root, a, b, c, d] = [n, `${n}.A`, `${n}.B`, `${n}.C`, `${n}.D`].map((x) => node(wf, x))
    assert.equal(root?.type, 'DAG')
    assert.deepEqual(root?.children, [a?.id])
    assert.deepEqual([...(a?.children ?? [])].sort(), [b?.id, c?.id].sort())
    assert.deepEqual(b?.children, [d?.id])
    assert.deepEqual(c?.children, [d?.id])
    assert.deepEqual(root?.outboundNodes, [d?.id])
    assert.equal(d?.boundaryID, n)
    assert.equal(status(wf).progress, '4/4')
    assert.equal((await podLog(ctx.em, `${n}-echo-${fnv32a(`${n}.D`)}`)).trim(), 'D')
  })

  it('fails on exit 1 with the upstream message and still runs the exit handler', async () => {
    const wf = await runToEnd(ctx, example('exit-handlers.yaml'))
    const n = wf.metadata.name ?? ''
    assert.equal(status(wf).phase, 'Failed')
    assert.equal(status(wf).message, 'Error (exit code 1)')
    const root = node(wf, n)
    assert.deepEqual([root.phase, root.message, root.outputs?.exitCode], ['Failed', 'Error (exit code 1)', '1'])
    assert.equal(rec(ctx.em.get(PODS, n)?.status).phase, 'Failed')
    assert.match(await podLog(ctx.em, n), /intentional failure/)
    assert.equal(node(wf, `${n}.onExit`).phase, 'Succeeded')
    assert.equal(node(wf, `${n}.onExit[0].celebrate`).phase, 'Skipped')
    assert.equal(node(wf, `${n}.onExit[0].cry`).phase, 'Succeeded')
    assert.ok(ctx.em.list(EVENTS).some((e) => e.reason === 'WorkflowFailed' && e.type === 'Warning' && rec(e.involvedObject).name === n))
  })

  it('fails a step group on a failed child, honours continueOn, and stops there', async () => {
    const wf = await runToEnd(ctx, wfOf({
      entrypoint: 'main',
      templates: [
        { name: 'main', steps: [[{ name: 'ok', template: 'good' }], [{ name: 'bad', template: 'bad' }, { name: 'tolerated', template: 'bad', continueOn: { failed: true } }], [{ name: 'never', template: 'good' }]] },
        { name: 'good', ...container('alpine', 'echo fine') },
        { name: 'bad', ...container('alpine', 'echo oops; exit 3') },
      ],
    }))
    const n = wf.metadata.name ?? ''
    const bad = node(wf, `${n}[1].bad`)
    assert.equal(status(wf).phase, 'Failed')
    assert.equal(status(wf).message, `child '${bad.id}' failed`)
    assert.equal(bad.message, 'Error (exit code 3)')
    assert.equal(node(wf, `${n}[1].tolerated`).phase, 'Failed')
    assert.equal(node(wf, `${n}[1]`).phase, 'Failed')
    assert.ok(!nodesOf(wf).some((x) => x.name.endsWith('.never')))
  })

  it('expands withItems / withSequence and evaluates depends results', async () => {
    const wf = await runToEnd(ctx, wfOf({
      entrypoint: 'main',
      templates: [
        { name: 'main', dag: { tasks: [
          { name: 'loop', template: 'say', arguments: { parameters: [{ name: 'm', value: '{{item.os}}' }] }, withItems: [{ os: 'debian' }, { os: 'alpine' }] },
          { name: 'seq', template: 'say', arguments: { parameters: [{ name: 'm', value: '{{item}}' }] }, withSequence: { count: '3' } },
          { name: 'fail', template: 'bad' },
          { name: 'after-ok', depends: 'fail', template: 'say', arguments: { parameters: [{ name: 'm', value: 'x' }] } },
          { name: 'on-fail', depends: 'fail.Failed && loop', template: 'say', arguments: { parameters: [{ name: 'm', value: 'handled' }] } },
        ] } },
        { name: 'say', inputs: { parameters: [{ name: 'm' }] }, container: { image: 'alpine', command: ['echo', '{{inputs.parameters.m}}'] } },
        { name: 'bad', ...container('alpine', 'exit 1') },
      ],
    }))
    const n = wf.metadata.name ?? ''
    const group = node(wf, `${n}.loop`)
    assert.equal(group.type, 'TaskGroup')
    const item = node(wf, `${n}.loop(0:os:debian)`)
    assert.deepEqual(group.children, [item.id, node(wf, `${n}.loop(1:os:alpine)`).id])
    assert.equal((await podLog(ctx.em, `${n}-say-${fnv32a(item.name)}`)).trim(), 'debian')
    assert.equal(node(wf, `${n}.seq(2:2)`).phase, 'Succeeded')
    assert.deepEqual([node(wf, `${n}.after-ok`).phase, node(wf, `${n}.after-ok`).type], ['Omitted', 'Skipped'])
    assert.equal(node(wf, `${n}.on-fail`).phase, 'Succeeded')
    assert.equal(status(wf).phase, 'Succeeded') // the failure was handled by on-fail
  })

  it('resolves workflowTemplateRef, templateRef steps, and reports a missing template', async () => {
    for (const t of load('workflow-template/templates.yaml')) if (t.kind === 'WorkflowTemplate') ctx.em.create(WFT, { ...t, metadata: { ...t.metadata, namespace: NS } })
    const viaRef = await runToEnd(ctx, wfOf({ workflowTemplateRef: { name: 'workflow-template-print-message' }, arguments: { parameters: [{ name: 'message', value: 'from a ref' }] } }))
    const n = viaRef.metadata.name ?? ''
    assert.equal(status(viaRef).phase, 'Succeeded')
    assert.equal(rec(status(viaRef).storedWorkflowTemplateSpec).entrypoint, 'print-message')
    assert.equal((await podLog(ctx.em, n)).trim(), 'from a ref')

    const steps = await runToEnd(ctx, example('workflow-template/steps.yaml'))
    const s = steps.metadata.name ?? ''
    assert.equal(status(steps).phase, 'Succeeded')
    assert.equal(node(steps, `${s}[1].hello2a`).type, 'Steps')
    assert.equal(node(steps, `${s}[1].hello2a[1].inner-hello2a`).phase, 'Succeeded')
    assert.ok('namespaced/workflow-template-print-message/print-message' in rec(status(steps).storedTemplates))

    const missing = await runToEnd(ctx, wfOf({ workflowTemplateRef: { name: 'nope' } }))
    assert.equal(status(missing).phase, 'Error')
    assert.equal(status(missing).message, 'workflowtemplates.argoproj.io "nope" not found')
    assert.equal(missing.metadata.labels?.['workflows.argoproj.io/completed'], 'true')
  })

  it('caps runaway recursion and errors the workflow', async () => {
    const wf = await runToEnd(ctx, wfOf({ entrypoint: 'loop', templates: [{ name: 'loop', steps: [[{ name: 'again', template: 'loop' }]] }] }))
    assert.equal(status(wf).phase, 'Error')
    assert.match(String(status(wf).message), /Maximum number of nodes/)
    assert.ok(nodesOf(wf).length <= 500)
  })
})
