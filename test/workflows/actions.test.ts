import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { argoGroupRules, startStack } from '../harness/stack.js'

const NS = 'argo'
const WF = { group: 'argoproj.io', resource: 'workflows', namespace: NS }
const PODS = { group: '', resource: 'pods', namespace: NS }
const L = 'workflows.argoproj.io/'

interface Node { id: string; name: string; displayName: string; type: string; phase: string; message?: string; startedAt?: string; outputs?: { parameters?: { name: string; value?: string }[] } }
type Wf = { metadata: { name: string; uid: string; labels?: Record<string, string> }; spec: Record<string, unknown>; status: { phase?: string; message?: string; nodes?: Record<string, Node>; outputs?: { parameters?: { name: string; value?: string }[] } } }
type Res = Wf & { code: number; message: string }

const pod = (name: string, cmd: string) => ({ name, container: { image: 'alpine', command: ['sh', '-c', cmd] } })
/** Waits at a suspend node `approve` (with a supplied output) before `work`; an exit handler runs `cleanup`. */
const gated = {
  entrypoint: 'main',
  onExit: 'cleanup',
  templates: [
    { name: 'main', steps: [[{ name: 'approve', template: 'gate' }], [{ name: 'work', template: 'work' }]] },
    { name: 'gate', suspend: {}, outputs: { parameters: [{ name: 'answer', valueFrom: { supplied: {}, default: 'no' }, globalName: 'answer' }] } },
    pod('work', 'echo ok'),
    pod('cleanup', 'echo cleanup'),
  ],
}
/** `ok`, then `flaky`, which exits with the workflow parameter `code`. */
const flaky = {
  entrypoint: 'main',
  arguments: { parameters: [{ name: 'code', value: '1' }] },
  templates: [
    { name: 'main', steps: [[{ name: 'ok', template: 'ok' }], [{ name: 'flaky', template: 'flaky' }]] },
    pod('ok', 'echo ok'),
    pod('flaky', 'exit {{workflow.parameters.code}}'),
  ],
}

const reader = 'reader'
const users = [{ token: reader, username: 'reader', rules: argoGroupRules(['get', 'list']) }]

async function setup(t: TestContext) {
  const s = await startStack(t, { users })
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  const create = async (name: string, spec: Record<string, unknown>) => {
    const res = await s.json<Wf>(`/api/v1/workflows/${NS}`, { method: 'POST', json: { workflow: { metadata: { name }, spec } } })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    await runner.idle()
    return res.body
  }
  const act = (name: string, action: string, body: Record<string, unknown> = {}, token?: string) =>
    s.json<Res>(`/api/v1/workflows/${NS}/${name}/${action}`, { method: 'PUT', json: body, ...(token ? { token } : {}) })
  const get = async (name: string) => (await s.json<Wf>(`/api/v1/workflows/${NS}/${name}`)).body
  const node = async (name: string, displayName: string) => Object.values((await get(name)).status.nodes ?? {}).find((n) => n.displayName === displayName)
  return { s, runner, create, act, get, node }
}

const ok = (res: { status: number; body: unknown }, what: string) => assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body)}`)

test('suspend holds a running workflow; resume by node selector, then resume clears spec.suspend and it finishes', async (t) => {
  const { runner, create, act, get, node } = await setup(t)
  await create('gated', gated)
  assert.equal((await node('gated', 'approve'))?.phase, 'Running')
  const suspended = await act('gated', 'suspend')
  ok(suspended, 'suspend')
  assert.equal(suspended.body.spec.suspend, true)
  assert.equal(suspended.body.metadata.labels?.[`${L}action`], 'Suspend')
  ok(await act('gated', 'suspend'), 'suspending again changes nothing')

  const byNode = await act('gated', 'resume', { nodeFieldSelector: 'displayName=approve' })
  ok(byNode, 'resume node')
  await runner.idle()
  assert.equal((await node('gated', 'approve'))?.phase, 'Succeeded')
  assert.match((await node('gated', 'approve'))?.message ?? '', /^Resumed by: map\[/)
  assert.equal(await node('gated', 'work'), undefined, 'spec.suspend still holds the next step')
  assert.equal((await get('gated')).status.phase, 'Running')

  const resumed = await act('gated', 'resume')
  ok(resumed, 'resume')
  assert.equal(resumed.body.spec.suspend, undefined)
  assert.equal(resumed.body.metadata.labels?.[`${L}action`], 'Resume')
  await runner.idle()
  assert.equal((await get('gated')).status.phase, 'Succeeded')
  assert.equal((await node('gated', 'work'))?.phase, 'Succeeded')

  const late = await act('gated', 'suspend')
  assert.equal(late.status, 400)
  assert.deepEqual(late.body, { code: 3, message: 'cannot suspend completed workflows' })
  const noMatch = await act('gated', 'resume', { nodeFieldSelector: 'displayName=nope' })
  assert.deepEqual([noMatch.status, noMatch.body.message], [400, 'currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: displayName=nope'])
})

test('stop fails the workflow but runs its exit handler; terminate skips it; both refuse a completed workflow', async (t) => {
  const { runner, create, act, get, node } = await setup(t)
  await create('stopped', gated)
  await create('terminated', gated)
  const stop = await act('stopped', 'stop', { message: 'not today' })
  ok(stop, 'stop')
  assert.equal(stop.body.spec.shutdown, 'Stop')
  assert.equal(stop.body.metadata.labels?.[`${L}action`], 'Stop')
  const term = await act('terminated', 'terminate')
  ok(term, 'terminate')
  assert.equal(term.body.spec.shutdown, 'Terminate')
  await runner.idle()
  const [a, b] = [await get('stopped'), await get('terminated')]
  assert.deepEqual([a.status.phase, a.status.message], ['Failed', "Stopped with strategy 'Stop'"])
  assert.deepEqual([b.status.phase, b.status.message], ['Failed', "Stopped with strategy 'Terminate'"])
  assert.equal((await node('stopped', 'stopped.onExit'))?.phase, 'Succeeded', 'Stop still runs the exit handler')
  assert.equal(await node('terminated', 'terminated.onExit'), undefined, 'Terminate does not')
  for (const action of ['stop', 'terminate']) {
    const again = await act('stopped', action)
    assert.equal(again.status, 400, action)
    assert.deepEqual(again.body, { code: 3, message: 'cannot shutdown a completed workflow: workflow: "stopped", namespace: "argo"' })
  }
})

test('stop with a node selector fails only that suspend node, with the message', async (t) => {
  const { runner, create, act, get, node } = await setup(t)
  await create('rejected', gated)
  ok(await act('rejected', 'stop', { nodeFieldSelector: 'templateName=gate', message: 'rejected by review' }), 'stop node')
  await runner.idle()
  const gate = await node('rejected', 'approve')
  assert.deepEqual([gate?.phase, gate?.message], ['Failed', 'rejected by review'])
  assert.equal((await get('rejected')).status.phase, 'Failed')
  assert.equal((await get('rejected')).spec.shutdown, undefined)
})

test('set supplies output parameters and a phase to a suspend node; bad input is 400', async (t) => {
  const { runner, create, act, get, node } = await setup(t)
  await create('approval', gated)
  const bad: [Record<string, unknown>, string | RegExp][] = [
    [{ nodeFieldSelector: 'displayName=approve', phase: 'Running' }, 'Running is an invalid phase to set to'],
    [{ nodeFieldSelector: 'displayName=approve', outputParameters: '{"answer":' }, /^unable to parse output parameter set request: /],
    [{ nodeFieldSelector: 'displayName=approve', outputParameters: '{"answer":1}' }, /^unable to parse output parameter set request: /],
    [{ phase: 'Succeeded' }, "'set' currently only targets suspend nodes, use a node field selector to target them"],
    [{ nodeFieldSelector: 'displayName=approve', outputParameters: '{"other":"x"}' }, "node is not expecting output parameter 'other'"],
    [{ nodeFieldSelector: 'displayName', phase: 'Succeeded' }, /^invalid selector/],
    [{ nodeFieldSelector: 'displayName=work', phase: 'Succeeded' }, 'currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: displayName=work'],
  ]
  for (const [body, message] of bad) {
    const res = await act('approval', 'set', body)
    assert.equal(res.status, 400, JSON.stringify(body))
    assert.equal(res.body.code, 3)
    if (typeof message === 'string') assert.equal(res.body.message, message)
    else assert.match(res.body.message, message)
  }
  assert.equal((await node('approval', 'approve'))?.phase, 'Running', 'bad input changed nothing')
  const set = await act('approval', 'set', { nodeFieldSelector: 'displayName=approve', outputParameters: '{"answer":"yes"}', phase: 'Succeeded', message: 'approved' })
  ok(set, 'set')
  await runner.idle()
  const gate = await node('approval', 'approve')
  assert.deepEqual([gate?.phase, gate?.message, gate?.outputs?.parameters?.[0]?.value], ['Succeeded', 'approved', 'yes'])
  const wf = await get('approval')
  assert.deepEqual(wf.status.outputs?.parameters, [{ name: 'answer', value: 'yes' }], 'a globalName makes it a workflow output')
  assert.equal(wf.status.phase, 'Succeeded')
})

test('retry re-runs the failed node in place (its pod deleted), keeps the succeeded ones, and takes new parameters', async (t) => {
  const { s, runner, create, act, get, node } = await setup(t)
  await create('wf1', flaky)
  const failed = await get('wf1')
  assert.equal(failed.status.phase, 'Failed')
  const okBefore = await node('wf1', 'ok')
  const flakyPod = s.emulator.list(PODS).find((p) => p.metadata.name?.startsWith('wf1-flaky-'))
  assert.ok(flakyPod, 'the failed node had a pod')

  const bad = await act('wf1', 'retry', { restartSuccessful: true, nodeFieldSelector: 'name' })
  assert.deepEqual([bad.status, bad.body.code], [400, 3])
  const retried = await act('wf1', 'retry', { parameters: ['code=0'] })
  ok(retried, 'retry')
  assert.equal(retried.body.status.phase, 'Running')
  assert.equal(retried.body.metadata.labels?.[`${L}completed`], undefined)
  assert.equal(retried.body.metadata.labels?.[`${L}phase`], 'Running')
  assert.equal(retried.body.metadata.labels?.[`${L}action`], 'Retry')
  const kept = Object.values(retried.body.status.nodes ?? {})
  assert.ok(kept.some((n) => n.displayName === 'ok' && n.phase === 'Succeeded'), 'the succeeded node is kept')
  assert.ok(!kept.some((n) => n.displayName === 'flaky'), 'the failed node is removed so it runs again')
  assert.ok(kept.filter((n) => n.type === 'Steps').every((n) => n.phase === 'Running'), 'its ancestors are Running again')

  await runner.idle()
  const done = await get('wf1')
  assert.equal(done.status.phase, 'Succeeded')
  assert.equal((await node('wf1', 'flaky'))?.phase, 'Succeeded')
  assert.equal((await node('wf1', 'ok'))?.startedAt, okBefore?.startedAt, 'the succeeded step did not run again')
  const podNow = s.emulator.get(PODS, flakyPod.metadata.name ?? '')
  assert.notEqual(podNow?.metadata.uid, flakyPod.metadata.uid, 'the old pod was deleted (and the re-run made a new one)')

  const succeeded = await act('wf1', 'retry')
  assert.deepEqual([succeeded.status, succeeded.body], [400, { code: 3, message: 'To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector' }])
  const okPod = s.emulator.list(PODS).find((p) => p.metadata.name?.startsWith('wf1-ok-'))
  ok(await act('wf1', 'retry', { restartSuccessful: true, nodeFieldSelector: 'templateName=ok' }), 'retry succeeded with selector')
  await runner.idle()
  assert.equal((await get('wf1')).status.phase, 'Succeeded')
  assert.notEqual(s.emulator.get(PODS, okPod?.metadata.name ?? '')?.metadata.uid, okPod?.metadata.uid, 'the selected node ran again')
})

test('a retry that loses a race with another write (e.g. the archive labelling the failed workflow) is done again on the newest version', async (t) => {
  const { s, runner, create, act, get } = await setup(t)
  await create('wf1', flaky)
  const update = { method: 'PUT', path: /workflows\/wf1$/ }
  s.emulator.fault({ ...update, delayMs: 500 })
  const retrying = act('wf1', 'retry', { parameters: ['code=0'] })
  for (const end = Date.now() + 10_000; s.emulator.requestCount(update) === 0;) {
    assert.ok(Date.now() < end, 'the server never wrote')
    await new Promise((r) => setTimeout(r, 5))
  }
  // Between the server's read and its update: the update over the version read is refused (409).
  s.emulator.patch(WF, 'wf1', { metadata: { labels: { team: 'data' } } })
  const retried = await retrying
  ok(retried, 'retry')
  assert.equal(s.emulator.requestCount(update), 2, 'updated again from a fresh read')
  assert.equal(retried.body.metadata.labels?.team, 'data', 'the other write is kept')
  await runner.idle()
  assert.equal((await get('wf1')).status.phase, 'Succeeded', 'the retry ran, with its new parameter')
})

test('retry of a running workflow is 400; resubmit makes a new run, memoized only from Failed', async (t) => {
  const { s, runner, create, act, get } = await setup(t)
  await create('waiting', gated)
  const running = await act('waiting', 'retry')
  assert.deepEqual([running.status, running.body], [400, { code: 3, message: 'Cannot retry a workflow in phase Running' }])

  await create('flaky', flaky)
  const again = await act('flaky', 'resubmit', { parameters: ['code=0'] })
  ok(again, 'resubmit')
  assert.match(again.body.metadata.name, /^flaky-[a-z0-9]{5}$/)
  assert.equal(again.body.metadata.labels?.[`${L}resubmitted-from-workflow`], 'flaky')
  assert.equal(again.body.metadata.labels?.[`${L}completed`], undefined)
  await runner.idle()
  assert.equal((await get(again.body.metadata.name)).status.phase, 'Succeeded')

  const memo = await act('flaky', 'resubmit', { memoized: true, parameters: ['code=0'] })
  ok(memo, 'memoized resubmit')
  const nodes = Object.values(memo.body.status.nodes ?? {})
  assert.ok(nodes.some((n) => n.displayName === 'ok' && n.phase === 'Skipped' && /^original pod: flaky-/.test(n.message ?? '')), 'the succeeded pod is reused')
  await runner.idle()
  assert.equal((await get(memo.body.metadata.name)).status.phase, 'Succeeded')
  const memoSucceeded = await act(again.body.metadata.name, 'resubmit', { memoized: true })
  assert.deepEqual([memoSucceeded.status, memoSucceeded.body], [400, { code: 3, message: 'workflow must be Failed/Error to resubmit in memoized mode' }])
  const badParam = await act('flaky', 'resubmit', { parameters: ['code'] })
  assert.deepEqual([badParam.status, badParam.body.message], [400, 'expected parameter of the form: NAME=VALUE. Received: code'])
  assert.equal(s.emulator.list(WF).length, 4, 'refused resubmits created nothing')
})

test('every action resolves @latest to the newest workflow', async (t) => {
  const { runner, create, act, get } = await setup(t)
  await create('older', gated)
  // creationTimestamp has whole seconds: make "newest" unambiguous
  await new Promise((r) => setTimeout(r, 1100))
  await create('newer', gated)
  const steps: [string, Record<string, unknown>][] = [
    ['suspend', {}], ['set', { nodeFieldSelector: 'displayName=approve', message: 'm' }], ['resume', { nodeFieldSelector: 'displayName=approve' }],
    ['terminate', {}], ['retry', {}], ['stop', {}],
  ]
  for (const [action, body] of steps) {
    const res = await act('@latest', action, body)
    ok(res, action)
    assert.equal(res.body.metadata.name, 'newer', action)
    await runner.idle()
  }
  const resubmit = await act('@latest', 'resubmit')
  ok(resubmit, 'resubmit')
  assert.equal(resubmit.body.metadata.labels?.[`${L}resubmitted-from-workflow`], 'newer')
  const older = await get('older')
  assert.deepEqual([older.spec.suspend, older.spec.shutdown, older.status.phase], [undefined, undefined, 'Running'], 'the older workflow was not touched')
})

test('actions on a missing workflow are 404; without rights 403; bad bodies 400', async (t) => {
  const { create, act, get } = await setup(t)
  await create('mine', gated)
  for (const action of ['retry', 'resubmit', 'suspend', 'resume', 'stop', 'terminate', 'set']) {
    const missing = await act('nope', action)
    assert.equal(missing.status, 404, action)
    assert.deepEqual(missing.body, { code: 5, message: 'workflows.argoproj.io "nope" not found' }, action)
    const denied = await act('mine', action, action === 'set' ? { nodeFieldSelector: 'displayName=approve', phase: 'Succeeded' } : {}, reader)
    assert.equal(denied.status, action === 'retry' ? 400 : 403, `${action}: ${JSON.stringify(denied.body)}`)
    const garbage = await act('mine', action, {}, 'garbage')
    assert.equal(garbage.status, 401, action)
  }
  const wrongType = await act('mine', 'retry', { restartSuccessful: 'yes' })
  assert.deepEqual([wrongType.status, wrongType.body.code], [400, 3])
  assert.match(wrongType.body.message, /restartSuccessful/)
  const after = await get('mine')
  assert.equal(after.status.phase, 'Running', 'nothing the reader tried changed the workflow')
})
