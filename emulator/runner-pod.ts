// Leaf nodes of the simulated controller: pods (the "kubelet" part), pod-less nodes and suspend nodes.
import { createHash } from 'node:crypto'
import type { KubeObject } from './types.js'
import type { WfNode, WorkflowRun } from './runner-run.js'
import { isoNow, podName, rec, recs, simulate, str, strs } from './runner-util.js'
import type { Program, Rec } from './runner-util.js'

const L = 'workflows.argoproj.io/'
const WAIT = { name: 'wait', image: 'quay.io/argoproj/argoexec:latest', command: ['argoexec'], args: ['wait', '--loglevel', 'info', '--log-format', 'text'] }
const klog = (level: string, msg: string, extra = ''): string => `time="${isoNow()}" level=${level} msg="${msg}"${extra}`

export async function execLeaf(run: WorkflowRun, node: WfNode, tmpl: Rec, templateName?: string): Promise<void> {
  if (node.type === 'Suspend') return execSuspend(run, node, tmpl)
  if (node.type !== 'Pod' || tmpl.resource !== undefined || tmpl.data !== undefined) return execPodless(run, node)
  return execPod(run, node, tmpl, templateName)
}

async function execPodless(run: WorkflowRun, node: WfNode): Promise<void> {
  run.setPhase(node, 'Running')
  await run.sleep(run.ctx.stepMs)
  if (run.halted) return run.setPhase(node, 'Failed', run.abort?.message)
  run.bump(node.id, 0, 0, 1)
  run.setPhase(node, 'Succeeded')
}

async function execSuspend(run: WorkflowRun, node: WfNode, tmpl: Rec): Promise<void> {
  // declared outputs (valueFrom.supplied) are what `argo node set` / the set action fills in
  if (Array.isArray(rec(tmpl.outputs).parameters)) node.outputs = structuredClone(rec(tmpl.outputs))
  run.setPhase(node, 'Running')
  if (rec(tmpl.suspend).duration !== undefined) {
    // durations are simulated: a timed suspend just takes one step
    await run.sleep(run.ctx.stepMs)
    return run.halted ? run.setPhase(node, 'Failed', run.abort?.message) : run.setPhase(node, 'Succeeded')
  }
  while (node.phase === 'Running') {
    if (run.halted) return run.setPhase(node, 'Failed', run.abort?.message)
    await run.nextChange()
  }
  // resumed by someone else (argo resume / node set): their phase stands
  run.touch(node)
  run.nodeEvent(node)
}

interface Main {
  container: Rec
  program: Program
}

function mainContainers(tmpl: Rec): Main[] {
  if (tmpl.script !== undefined) {
    const { source, ...script } = rec(tmpl.script)
    const command = strs(script.command)
    return [{
      container: { ...script, name: 'main', command, args: [...strs(script.args), '/argo/staging/script'] },
      program: simulate(str(script.image) ?? '', command, strs(script.args), str(source) ?? ''),
    }]
  }
  const list = tmpl.containerSet !== undefined ? recs(rec(tmpl.containerSet).containers) : [{ ...rec(tmpl.container), name: 'main' }]
  return list.map((c) => ({ container: c, program: simulate(str(c.image) ?? '', strs(c.command), strs(c.args)) }))
}

const names = (mains: Main[]): string[] => ['wait', ...mains.map((m) => str(m.container.name) ?? 'main')]

async function execPod(run: WorkflowRun, node: WfNode, tmpl: Rec, templateName?: string): Promise<void> {
  const { em, stepMs } = run.ctx
  const ref = run.podRef()
  const name = podName(run.name, node.name, templateName ?? str(node.templateRef?.template))
  const mains = mainContainers(tmpl)
  const patchPod = (body: Rec): void => {
    try {
      em.patch(ref, name, body)
    } catch (err) {
      run.ctx.log(`pod ${run.ns}/${name}: patch failed`, err)
    }
  }
  // A started container has an ID (the kubelet serves logs by it: one without an ID has none to serve).
  const containerID = (c: string) => `containerd://${createHash('sha256').update(`${run.uid}/${name}/${c}`).digest('hex')}`
  const statuses = (state: (c: string) => Rec): Rec[] => names(mains).map((c) => {
    const st = state(c)
    const started = st.running !== undefined || st.terminated !== undefined
    if (st.terminated !== undefined) st.terminated = { ...rec(st.terminated), containerID: containerID(c) }
    return { name: c, image: c === 'wait' ? WAIT.image : str(mains.find((m) => m.container.name === c)?.container.image) ?? '', ready: false, restartCount: 0, state: st, ...(started ? { containerID: containerID(c) } : {}) }
  })

  run.setPhase(node, 'Pending')
  if (!em.get(ref, name)) {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: run.ns,
        labels: { [`${L}workflow`]: run.name, [`${L}completed`]: 'false' },
        annotations: { [`${L}node-name`]: node.name, [`${L}node-id`]: node.id, 'kubectl.kubernetes.io/default-container': 'main' },
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: run.name, uid: run.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        nodeName: 'sandbox-node',
        restartPolicy: 'Never',
        serviceAccountName: str(run.liveSpec.serviceAccountName) ?? 'default',
        containers: [WAIT, ...mains.map((m) => m.container)],
      },
      status: { phase: 'Pending', qosClass: 'BestEffort', containerStatuses: statuses(() => ({ waiting: { reason: 'ContainerCreating' } })) },
    }
    try {
      em.create(ref, pod)
    } catch (err) {
      // As the controller: a pod the apiserver refuses (e.g. a workflow name too long for the workflow label, 63
      // characters at most) fails its node with the apiserver's message.
      if ((err as { code?: unknown }).code === 422) return run.setPhase(node, 'Error', (err as Error).message)
      run.ctx.log(`pod ${run.ns}/${name}: create failed`, err)
    }
  }
  await run.sleep(Math.max(1, Math.min(200, Math.round(stepMs / 5))))

  const startedAt = isoNow()
  const t0 = Date.now()
  if (!run.halted) {
    patchPod({ status: { phase: 'Running', startTime: startedAt, hostIP: '10.0.0.1', podIP: '10.244.0.10', containerStatuses: statuses(() => ({ running: { startedAt } })) } })
    node.hostNodeName = 'sandbox-node'
    run.setPhase(node, 'Running')
    em.appendPodLog(run.ns, name, 'wait', klog('info', 'Starting Workflow Executor', ' version=v3.6.0'))
    for (const m of mains) for (const line of m.program.lines) em.appendPodLog(run.ns, name, str(m.container.name) ?? 'main', line)
    await run.sleep(stepMs)
  }

  const halted = run.halted
  const code = halted ? 143 : Math.max(0, ...mains.map((m) => m.program.exitCode))
  const finishedAt = isoNow()
  const ok = code === 0
  em.appendPodLog(run.ns, name, 'wait', klog('info', 'sub-process exited', ` argo=true error="${ok ? '<nil>' : `exit status ${code}`}"`))
  patchPod({
    metadata: { labels: { [`${L}completed`]: 'true' } },
    status: {
      phase: ok ? 'Succeeded' : 'Failed',
      containerStatuses: statuses((c) => ({ terminated: { exitCode: c === 'wait' ? 0 : code, reason: c === 'wait' || ok ? 'Completed' : 'Error', startedAt, finishedAt } })),
    },
  })
  const secs = Math.max(1, Math.round((Date.now() - t0) / 1000))
  run.bump(node.id, 0, 0, secs)
  node.outputs = { ...(tmpl.script !== undefined && !halted ? { result: mains[0]?.program.lines.join('\n') } : {}), exitCode: String(code) }
  run.taskResult(node.id)
  if (halted) run.setPhase(node, 'Failed', run.abort?.message)
  else if (ok) run.setPhase(node, 'Succeeded')
  else run.setPhase(node, 'Failed', `Error (exit code ${code})`)
}
