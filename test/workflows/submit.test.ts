import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startRunner } from '../../emulator/runner.js'
import { examples } from '../harness/examples.js'
import { argoGroupRules, startStack } from '../harness/stack.js'

const NS = 'argo'
const WF = { group: 'argoproj.io', resource: 'workflows', namespace: NS }
const WFT = { group: 'argoproj.io', resource: 'workflowtemplates', namespace: NS }
const CWFT = { group: 'argoproj.io', resource: 'clusterworkflowtemplates' }
const CRON = { group: 'argoproj.io', resource: 'cronworkflows', namespace: NS }
const L = 'workflows.argoproj.io/'

type Wf = { metadata: { name?: string; generateName?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Record<string, unknown>[] }; spec: Record<string, unknown>; status: Record<string, unknown> }
type Err = { code: number; message: string }

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
const submitter = jwt({ sub: 'system:serviceaccount:argo:submitter', email: 'sub@example.com' })
const templateRule = (resources: string[]) => ({ verbs: ['get'], apiGroups: ['argoproj.io'], resources })
const users = [
  { token: submitter, username: 'system:serviceaccount:argo:submitter', rules: [...argoGroupRules(['get', 'list', 'create']), templateRule(['workflowtemplates', 'clusterworkflowtemplates', 'cronworkflows'])] },
  { token: 'no-templates', username: 'no-templates', rules: argoGroupRules(['get', 'list', 'create']) },
  { token: 'no-create', username: 'no-create', rules: [...argoGroupRules(['get', 'list']), templateRule(['workflowtemplates'])] },
]

const echo = { name: 'main', inputs: { parameters: [{ name: 'message' }] }, container: { image: 'busybox', command: ['echo', '{{inputs.parameters.message}}'] } }
const spec = {
  entrypoint: 'hello',
  arguments: { parameters: [{ name: 'message', value: 'from-template' }, { name: 'other', value: 'o' }] },
  templates: [
    { name: 'hello', steps: [[{ name: 'say', template: 'main', arguments: { parameters: [{ name: 'message', value: '{{workflow.parameters.message}}' }] } }]] },
    echo,
    { name: 'alt', container: { image: 'busybox', command: ['echo', 'alt'] } },
  ],
}

async function stack(t: Parameters<typeof startStack>[0]) {
  const s = await startStack(t, { users })
  s.emulator.create(WFT, { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'greet' }, spec })
  s.emulator.create(CWFT, { apiVersion: 'argoproj.io/v1alpha1', kind: 'ClusterWorkflowTemplate', metadata: { name: 'cgreet' }, spec })
  s.emulator.create(CRON, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', metadata: { name: 'nightly' },
    spec: { schedules: ['0 0 * * *'], workflowMetadata: { labels: { team: 'data' }, annotations: { note: 'n' } }, workflowSpec: spec },
  })
  const submit = (body: Record<string, unknown>, token?: string) =>
    s.json<Wf & Err>(`/api/v1/workflows/${NS}/submit`, { method: 'POST', json: body, ...(token ? { token } : {}) })
  return { s, submit }
}

test('submit accepts every upstream spelling of resourceKind and references the source as upstream does', async (t) => {
  const { s, submit } = await stack(t)
  const kinds: [string[], string][] = [
    [['WorkflowTemplate', 'workflowtemplate', 'workflowtemplates', 'wftmpl'], 'greet'],
    [['ClusterWorkflowTemplate', 'clusterworkflowtemplate', 'clusterworkflowtemplates', 'cwftmpl'], 'cgreet'],
    [['CronWorkflow', 'cronworkflow', 'cronworkflows', 'cronwf'], 'nightly'],
  ]
  for (const [spellings, resourceName] of kinds) {
    for (const resourceKind of spellings) {
      const res = await submit({ resourceKind, resourceName })
      assert.equal(res.status, 200, `${resourceKind}: ${JSON.stringify(res.body)}`)
      const md = res.body.metadata
      assert.match(md.name ?? '', new RegExp(`^${resourceName}-[a-z0-9]{5}$`), resourceKind)
      assert.ok(md.uid && s.emulator.get(WF, md.name ?? ''), 'created in Kubernetes')
      if (resourceName === 'greet') {
        assert.deepEqual(res.body.spec.workflowTemplateRef, { name: 'greet' })
        assert.equal(md.labels?.[`${L}workflow-template`], 'greet')
      } else if (resourceName === 'cgreet') {
        assert.deepEqual(res.body.spec.workflowTemplateRef, { name: 'cgreet', clusterScope: true })
        assert.equal(md.labels?.[`${L}cluster-workflow-template`], 'cgreet')
      } else {
        assert.equal(res.body.spec.entrypoint, 'hello', 'a cron workflow is converted from its workflowSpec')
        assert.equal(md.labels?.[`${L}cron-workflow`], 'nightly')
        assert.equal(md.labels?.team, 'data')
        assert.equal(md.annotations?.note, 'n')
        assert.match(md.annotations?.[`${L}scheduled-time`] ?? '', /^\d{4}-\d\d-\d\dT/)
        assert.deepEqual(md.ownerReferences?.map((o) => [o.kind, o.name, o.controller]), [['CronWorkflow', 'nightly', true]])
      }
    }
  }
})

test('submitOptions: name, entryPoint, parameters, labels, annotations, serviceAccount, priorities; creator labels as create', async (t) => {
  const { s, submit } = await stack(t)
  const res = await submit({
    resourceKind: 'WorkflowTemplate',
    resourceName: 'greet',
    submitOptions: {
      name: 'named', generateName: 'ignored-', entryPoint: 'alt', parameters: ['message=a=b', 'extra=x'],
      labels: 'team=x,tier=gold', annotations: 'owner=me', serviceAccount: 'runner', priority: 7, podPriorityClassName: 'high',
    },
  }, submitter)
  assert.equal(res.status, 200, JSON.stringify(res.body))
  const stored = s.emulator.get(WF, 'named')
  assert.ok(stored, 'name wins over generateName')
  const sp = stored.spec as Record<string, unknown>
  assert.equal(sp.entrypoint, 'alt')
  assert.deepEqual(sp.arguments, { parameters: [{ name: 'message', value: 'a=b' }, { name: 'extra', value: 'x' }] }, 'split on the first =')
  assert.deepEqual([sp.serviceAccountName, sp.priority, sp.podPriorityClassName], ['runner', 7, 'high'])
  const labels = stored.metadata.labels ?? {}
  assert.deepEqual([labels.team, labels.tier, labels[`${L}workflow-template`]], ['x', 'gold', 'greet'])
  assert.equal(labels[`${L}creator`], 'system-serviceaccount-argo-submitter')
  assert.equal(labels[`${L}creator-email`], 'sub.at.example.com')
  assert.equal(stored.metadata.annotations?.owner, 'me')

  // nobody submits as someone else: a creator label given as an option is replaced by the caller's own
  const forged = await submit({ resourceKind: 'wftmpl', resourceName: 'greet', submitOptions: { labels: `${L}creator=admin` } }, submitter)
  assert.equal(forged.body.metadata.labels?.[`${L}creator`], 'system-serviceaccount-argo-submitter')
})

test('dryRun returns the workflow uncreated; serverDryRun has Kubernetes dry-run it', async (t) => {
  const { s, submit } = await stack(t)
  const dry = await submit({ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { dryRun: true, parameters: ['message=x'] } })
  assert.equal(dry.status, 200)
  assert.equal(dry.body.metadata.uid, undefined)
  assert.equal(dry.body.metadata.generateName, 'greet-')
  const server = await submit({ resourceKind: 'cronwf', resourceName: 'nightly', submitOptions: { serverDryRun: true } })
  assert.equal(server.status, 200)
  assert.equal(s.emulator.list(WF).length, 0, 'nothing was stored')
})

test('submit errors: unknown kind and malformed options are 400, a missing source 404, missing rights 403; nothing is created', async (t) => {
  const { s, submit } = await stack(t)
  const cases: [Record<string, unknown>, number, string | RegExp, string?][] = [
    [{ resourceKind: 'Workflow', resourceName: 'greet' }, 400, "Resource kind 'Workflow' is not supported for submitting"],
    [{ resourceKind: 'workflowTemplate', resourceName: 'greet' }, 400, "Resource kind 'workflowTemplate' is not supported for submitting"],
    [{ resourceName: 'greet' }, 400, "Resource kind '' is not supported for submitting"],
    [{ resourceKind: 'WorkflowTemplate' }, 400, 'resourceName is required'],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'nope' }, 404, 'workflowtemplates.argoproj.io "nope" not found'],
    [{ resourceKind: 'ClusterWorkflowTemplate', resourceName: 'nope' }, 404, 'clusterworkflowtemplates.argoproj.io "nope" not found'],
    [{ resourceKind: 'CronWorkflow', resourceName: 'nope' }, 404, 'cronworkflows.argoproj.io "nope" not found'],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { parameters: ['novalue'] } }, 400, 'expected parameter of the form: NAME=VALUE. Received: novalue'],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { labels: 'a=b,c' } }, 400, 'expected labels of the form: NAME1=VALUE2,NAME2=VALUE2. Received: a=b,c: unexpected label spec: c'],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { annotations: '=v' } }, 400, /^expected Annotations of the form: .*unexpected empty label key$/],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { entryPoint: 'missing' } }, 400, /template 'missing' undefined/],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { priority: 'high' } }, 400, /priority/],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { labels: 'bad key=v' } }, 400, /bad key/],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet' }, 403, /cannot get resource "workflowtemplates"/, 'no-templates'],
    [{ resourceKind: 'CronWorkflow', resourceName: 'nightly' }, 403, /cannot get resource "cronworkflows"/, 'no-templates'],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet' }, 403, /cannot create resource "workflows"/, 'no-create'],
    [{ resourceKind: 'WorkflowTemplate', resourceName: 'greet' }, 401, /./, 'garbage'],
  ]
  for (const [body, status, message, token] of cases) {
    const res = await submit(body, token)
    const what = `${JSON.stringify(body)} as ${token ?? 'admin'}`
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`)
    if (typeof message === 'string') assert.equal(res.body.message, message, what)
    else assert.match(res.body.message, message, what)
    assert.deepEqual(Object.keys(res.body).sort(), ['code', 'message'], what)
  }
  assert.equal(s.emulator.list(WF).length, 0)
})

test('a submitted template runs with the given parameters', async (t) => {
  const { s, submit } = await stack(t)
  const runner = startRunner(s.emulator, { stepMs: 20 })
  t.after(() => runner.stop())
  const res = await submit({ resourceKind: 'WorkflowTemplate', resourceName: 'greet', submitOptions: { parameters: ['message=hello-from-submit'] } })
  assert.equal(res.status, 200)
  await runner.idle()
  const name = res.body.metadata.name ?? ''
  const got = await s.json<Wf>(`/api/v1/workflows/${NS}/${name}`)
  assert.equal(got.body.status.phase, 'Succeeded')
  const log = await s.req(`/api/v1/workflows/${NS}/${name}/log?logOptions.container=main`)
  assert.match(await log.text(), /hello-from-submit/)
})

test('every WorkflowTemplate and ClusterWorkflowTemplate in the examples submits', async (t) => {
  const s = await startStack(t)
  const templates = [...examples('WorkflowTemplate'), ...examples('ClusterWorkflowTemplate')]
  assert.ok(templates.length > 5, 'the corpus has templates')
  for (const { doc } of templates) {
    const { resourceVersion: _r, uid: _u, creationTimestamp: _c, ...metadata } = doc.metadata ?? {}
    s.emulator.create(doc.kind === 'WorkflowTemplate' ? WFT : CWFT, { ...doc, metadata: { ...metadata, name: String(metadata.name) } })
  }
  for (const { file, doc } of templates) {
    const res = await s.json<Wf & Err>(`/api/v1/workflows/${NS}/submit`, { method: 'POST', json: { resourceKind: doc.kind, resourceName: doc.metadata?.name } })
    assert.equal(res.status, 200, `${file}: ${JSON.stringify(res.body)}`)
    assert.ok(res.body.metadata.uid, file)
  }
  assert.equal(s.emulator.list(WF).length, templates.length)
})
