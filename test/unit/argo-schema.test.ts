import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadAll } from 'js-yaml'
import { cronScheduleError, formatProblems, lintProblems, schemaProblems } from '../../src/lib/argo-schema/index.js'
import type { ArgoKind, Problem } from '../../src/lib/argo-schema/index.js'
import { generateValidatorsModule } from '../../scripts/argo-schema/codegen.js'
import { serializeVendored, vendorArgoSchema } from '../../scripts/argo-schema/vendor.js'

const shared = new URL('../../../shared/argo/', import.meta.url)
const examplesDir = fileURLToPath(new URL('examples', shared))
const KINDS: readonly string[] = ['Workflow', 'WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow']

type Obj = Record<string, unknown>

// Go's YAML parser tolerates multi-line flow scalars whose closing line is under-indented
// (e.g. `args: ["\n  cmd\n"]` in ci.yaml); js-yaml does not, so indent such lines and retry.
function loadLenient(text: string): unknown[] {
  const lines = text.split('\n')
  for (;;) {
    try {
      return loadAll(lines.join('\n'), null, { json: true })
    } catch (e) {
      const err = e as { reason?: string; mark?: { line: number } }
      const line = err.mark?.line
      if (err.reason !== 'deficient indentation' || line === undefined || (lines[line]?.length ?? 0) > 10_000) throw e
      lines[line] = '  ' + lines[line]
    }
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) return yamlFiles(p)
    return /\.ya?ml$/.test(f) ? [p] : []
  })
}

interface Doc {
  file: string
  kind: ArgoKind
  obj: Obj
}

function corpus(): Doc[] {
  const docs: Doc[] = []
  for (const file of yamlFiles(examplesDir)) {
    for (const obj of loadLenient(readFileSync(file, 'utf8'))) {
      const kind = (obj as Obj | null)?.kind
      if (typeof kind === 'string' && KINDS.includes(kind)) docs.push({ file: relative(examplesDir, file), kind: kind as ArgoKind, obj: obj as Obj })
    }
  }
  return docs
}

function nameOf(o: Obj): string {
  return String((o.metadata as Obj | undefined)?.name)
}

test('every example Workflow/WorkflowTemplate/ClusterWorkflowTemplate/CronWorkflow lints clean', () => {
  const docs = corpus()
  assert.ok(docs.length > 150, `only ${docs.length} documents found`)
  for (const k of KINDS) assert.ok(docs.some((d) => d.kind === k), `no ${k} in corpus`)
  const byScope = { false: new Map<string, Obj>(), true: new Map<string, Obj>() }
  for (const d of docs) {
    if (d.kind === 'WorkflowTemplate') byScope.false.set(nameOf(d.obj), d.obj)
    if (d.kind === 'ClusterWorkflowTemplate') byScope.true.set(nameOf(d.obj), d.obj)
  }
  let resolved = 0
  const resolveTemplate = (ref: { name: string; clusterScope: boolean }): unknown => {
    const found = byScope[`${ref.clusterScope}`].get(ref.name)
    if (found) resolved++
    return found
  }
  for (const lint of [true, false]) {
    for (const d of docs) {
      assert.deepEqual(lintProblems(d.kind, d.obj, { lint, resolveTemplate }), [], `${d.file} (${d.kind} ${nameOf(d.obj)}, lint=${lint})`)
    }
  }
  assert.ok(resolved > 0, 'resolver never used')
})

test('vendored schema and validators are up to date with shared/argo/jsonschema.json', () => {
  const vendored = vendorArgoSchema(JSON.parse(readFileSync(new URL('jsonschema.json', shared), 'utf8')))
  const dir = new URL('../../src/lib/argo-schema/', import.meta.url)
  const hint = 'run: node --import tsx scripts/vendor-argo-schema.ts'
  assert.ok(serializeVendored(vendored) === readFileSync(new URL('argo.schema.json', dir), 'utf8'), `argo.schema.json is stale; ${hint}`)
  assert.ok(generateValidatorsModule(vendored) === readFileSync(new URL('argo.validators.js', dir), 'utf8'), `argo.validators.js is stale; ${hint}`)
})

// --- negative cases ---

function wf(spec: Obj, metadata: Obj = { generateName: 'x-' }): Obj {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata, spec }
}

const container = (extra: Obj = {}): Obj => ({ container: { image: 'alpine' }, ...extra })

function paths(problems: Problem[]): string[] {
  return problems.map((p) => p.path)
}

function has(problems: Problem[], path: string, message: RegExp | string): void {
  const ok = problems.some((p) => p.path === path && (typeof message === 'string' ? p.message === message : message.test(p.message)))
  assert.ok(ok, `expected ${path}: ${String(message)}\ngot: ${formatProblems(problems)}`)
}

test('apiVersion and kind may be absent; a minimal valid workflow has no problems', () => {
  const obj = { metadata: { generateName: 'hello-' }, spec: { entrypoint: 'main', templates: [{ name: 'main', ...container() }] } }
  assert.deepEqual(lintProblems('Workflow', obj), [])
})

test('wrong type', () => {
  const problems = lintProblems('Workflow', wf({ entrypoint: 'main', templates: 'x' }))
  assert.deepEqual(problems, [{ path: 'spec.templates', message: 'must be array' }])
  assert.equal(formatProblems(problems), 'spec.templates: must be array')
})

test('schema problems carry readable dotted paths and every violation', () => {
  const problems = schemaProblems('Workflow', wf({ templates: [{ name: 'a', container: { image: 5 } }, { name: 'b', retryStrategy: { limit: true } }], arguments: { parameters: [{ value: 'v' }] } }))
  has(problems, 'spec.templates[0].container.image', 'must be string')
  has(problems, 'spec.templates[1].retryStrategy.limit', 'must be integer or string')
  has(problems, 'spec.arguments.parameters[0].name', 'is required')
  assert.equal(formatProblems([problems[0] as Problem]), `${problems[0]?.path}: ${problems[0]?.message}`)
})

test('int-or-string and quantity fields take numbers and strings', () => {
  const t = { name: 'main', retryStrategy: { limit: 3 }, container: { image: 'a', resources: { limits: { cpu: 1, memory: '1Gi' }, requests: { cpu: '100m', memory: 0.5 } } }, inputs: { parameters: [{ name: 'n', value: 5 }] } }
  assert.deepEqual(lintProblems('Workflow', wf({ entrypoint: 'main', templates: [t, { ...t, name: 'b', retryStrategy: { limit: '3' } }] })), [])
})

test('unknown entrypoint, missing entrypoint, missing templates, unknown onExit', () => {
  has(lintProblems('Workflow', wf({ entrypoint: 'nope', templates: [{ name: 'main', ...container() }] })), 'spec.entrypoint', "template 'nope' undefined")
  has(lintProblems('Workflow', wf({ templates: [{ name: 'main', ...container() }] })), 'spec.entrypoint', 'is required')
  has(lintProblems('Workflow', wf({ entrypoint: 'main' })), 'spec.templates', 'is required')
  has(lintProblems('Workflow', wf({ entrypoint: 'main', onExit: 'bye', templates: [{ name: 'main', ...container() }] })), 'spec.onExit', "template 'bye' undefined")
  // WorkflowTemplates need no entrypoint.
  const wft = { metadata: { name: 'tpl' }, spec: { templates: [{ name: 'main', ...container() }] } }
  assert.deepEqual(lintProblems('WorkflowTemplate', wft, { lint: true }), [])
  assert.deepEqual(lintProblems('WorkflowTemplate', wft), [])
})

test('duplicate and invalid template names', () => {
  const problems = lintProblems('Workflow', wf({ entrypoint: 'main', templates: [{ name: 'main', ...container() }, { name: 'main', ...container() }, { name: 'bad_name', ...container() }] }))
  has(problems, 'spec.templates[1].name', "'main' is not unique")
  has(problems, 'spec.templates[2].name', /^'bad_name' is invalid: name must consist of alpha-numeric/)
})

test('template type unspecified / multiple', () => {
  const problems = lintProblems('Workflow', wf({ entrypoint: 'a', templates: [{ name: 'a' }, { name: 'b', container: { image: 'x' }, script: { image: 'x', source: 'echo' } }] }))
  has(problems, 'spec.templates[0]', 'templates.a template type unspecified. choose one of: container, containerSet, steps, dag, script, resource, data, suspend, plugin, http')
  has(problems, 'spec.templates[1]', 'templates.b has multiple template types specified')
})

test('undefined step template; inline templates are checked in place', () => {
  const problems = lintProblems('Workflow', wf({
    entrypoint: 'main',
    templates: [
      { name: 'main', steps: [[{ name: 'ok', template: 'leaf' }], [{ name: 'y', template: 'z' }, { name: 'in', inline: { container: { image: 'a', args: ['{{inputs.parameters.p}}'] } } }]] },
      { name: 'leaf', ...container() },
    ],
  }))
  has(problems, 'spec.templates[0].steps[1][0].template', "templates.main.steps[1].y template 'z' undefined")
  has(problems, 'spec.templates[0].steps[1][1].inline.container.args[0]', 'templates.main.steps[1].in.inline: failed to resolve {{inputs.parameters.p}}')
  assert.equal(problems.length, 2, formatProblems(problems))
})

function dag(tasks: Obj[]): Obj {
  return wf({ entrypoint: 'd', templates: [{ name: 'd', dag: { tasks } }, { name: 'leaf', ...container() }] })
}

test('dag: cycle, missing dependency, duplicate task, depends + dependencies', () => {
  has(lintProblems('Workflow', dag([
    { name: 'a', template: 'leaf', dependencies: ['b'] },
    { name: 'b', template: 'leaf', dependencies: ['a'] },
  ])), 'spec.templates[0].dag.tasks', 'templates.d.tasks dependency cycle detected: a->b->a')
  has(lintProblems('Workflow', dag([{ name: 'a', template: 'leaf', depends: 'a.Succeeded' }])), 'spec.templates[0].dag.tasks', 'templates.d.tasks dependency cycle detected: a->a')
  has(lintProblems('Workflow', dag([{ name: 'a', template: 'leaf', dependencies: ['ghost'] }])), 'spec.templates[0].dag.tasks[0].dependencies[0]', "templates.d.tasks.a dependency 'ghost' not defined")
  has(lintProblems('Workflow', dag([{ name: 'a', template: 'leaf' }, { name: 'b', template: 'leaf', depends: '(a.Succeeded || ghost.Failed) && !a' }])), 'spec.templates[0].dag.tasks[1].depends', "templates.d.tasks.b dependency 'ghost' not defined")
  has(lintProblems('Workflow', dag([{ name: 'a', template: 'leaf' }, { name: 'a', template: 'nope' }])), 'spec.templates[0].dag.tasks[1].name', "templates.d.tasks[1].name 'a' is not unique")
  has(lintProblems('Workflow', dag([{ name: 'a', template: 'leaf' }, { name: 'b', template: 'nope' }])), 'spec.templates[0].dag.tasks[1].template', "templates.d.tasks.b template 'nope' undefined")
  has(lintProblems('Workflow', dag([{ name: 'a', template: 'leaf' }, { name: 'b', template: 'leaf', depends: 'a' }, { name: 'c', template: 'leaf', dependencies: ['a'] }])), 'spec.templates[0].dag', "templates.d cannot use both 'depends' and 'dependencies' in the same DAG template")
})

test('unresolved input parameter; declared ones, expressions and other tags pass', () => {
  const problems = lintProblems('Workflow', wf({
    entrypoint: 't',
    templates: [{
      name: 't',
      inputs: { parameters: [{ name: 'msg' }] },
      container: { image: 'alpine', command: ['echo'], args: ['{{inputs.parameters.msg}} {{ inputs.parameters.nope }}', '{{=inputs.parameters.x}}', '{{workflow.name}} {{inputs.parameters}}'] },
    }],
  }))
  assert.deepEqual(problems, [{ path: 'spec.templates[0].container.args[0]', message: 'templates.t: failed to resolve {{inputs.parameters.nope}}' }])
})

test('templateRef and workflowTemplateRef use the resolver; lint mode tolerates unresolved ones', () => {
  const lib = { metadata: { name: 'lib' }, spec: { templates: [{ name: 'echo', ...container() }] } }
  const resolveTemplate = (ref: { name: string; clusterScope: boolean }): unknown => (ref.name === 'lib' && !ref.clusterScope ? lib : undefined)
  const obj = wf({ entrypoint: 'main', templates: [{ name: 'main', steps: [[
    { name: 'a', templateRef: { name: 'lib', template: 'echo' } },
    { name: 'b', templateRef: { name: 'lib', template: 'missing' } },
    { name: 'c', templateRef: { name: 'lib', template: 'echo', clusterScope: true } },
  ]] }] })
  const problems = lintProblems('Workflow', obj, { resolveTemplate })
  assert.deepEqual(paths(problems), ['spec.templates[0].steps[0][1].templateRef.template', 'spec.templates[0].steps[0][2].templateRef'])
  has(problems, 'spec.templates[0].steps[0][1].templateRef.template', 'templates.main.steps[0].b template missing not found in workflow template lib')
  assert.deepEqual(lintProblems('Workflow', obj, { resolveTemplate, lint: true }), [])
  assert.deepEqual(lintProblems('Workflow', obj), [])
  const byRef = wf({ entrypoint: 'echo', workflowTemplateRef: { name: 'other' } })
  has(lintProblems('Workflow', byRef, { resolveTemplate }), 'spec.workflowTemplateRef.name', 'workflowtemplates.argoproj.io "other" not found')
  has(lintProblems('Workflow', wf({ entrypoint: 'nope', workflowTemplateRef: { name: 'lib' } }), { resolveTemplate }), 'spec.entrypoint', "template 'nope' undefined")
  assert.deepEqual(lintProblems('Workflow', wf({ workflowTemplateRef: { name: 'lib' } }), { resolveTemplate }), [])
})

test('bad names', () => {
  has(lintProblems('Workflow', wf({ entrypoint: 'main', templates: [{ name: 'main', ...container() }] }, { name: 'Bad_Name' })), 'metadata.name', /^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/)
  has(lintProblems('Workflow', wf({ entrypoint: 'main', templates: [{ name: 'main', ...container() }] }, { generateName: 'UPPER-' })), 'metadata.generateName', /RFC 1123/)
  assert.deepEqual(lintProblems('Workflow', wf({ entrypoint: 'main', templates: [{ name: 'main', ...container() }] }, { generateName: 'ok-' })), [])
  has(lintProblems('Workflow', wf({ entrypoint: 'main', templates: [{ name: 'main', ...container() }] }, { name: 'a'.repeat(64) })), 'metadata.name', /must not be more than 63 characters long \(currently 64\)/)
  has(lintProblems('Workflow', wf({ entrypoint: 'main', templates: [{ name: 'main', ...container() }], arguments: { parameters: [{ name: '' }, { name: 'a b' }] } })), 'spec.arguments.parameters[0].name', 'is required')
})

function cron(spec: Obj): Obj {
  return {
    metadata: { name: 'c' },
    spec: { workflowSpec: { entrypoint: 'main', templates: [{ name: 'main', ...container() }] }, ...spec },
  }
}

test('cron: schedules, timezone, concurrencyPolicy, workflowSpec', () => {
  assert.deepEqual(lintProblems('CronWorkflow', cron({ schedules: ['*/5 * * * *', '@hourly', '@every 1h30m', 'CRON_TZ=Europe/Paris 0 9 * * MON-FRI'], timezone: 'America/New_York', concurrencyPolicy: 'Forbid' })), [])
  has(lintProblems('CronWorkflow', cron({ schedule: '61 * * * *' })), 'spec.schedule', 'cron schedule 61 * * * * is malformed: end of range (61) above maximum (59): 61')
  has(lintProblems('CronWorkflow', cron({ schedules: ['* * * *'] })), 'spec.schedules[0]', /expected exactly 5 fields, found 4/)
  has(lintProblems('CronWorkflow', cron({ schedule: '* * * * *', timezone: 'Mars/Olympus' })), 'spec.timezone', 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus')
  has(lintProblems('CronWorkflow', cron({ schedule: '* * * * *', concurrencyPolicy: 'Sometimes' })), 'spec.concurrencyPolicy', "'Sometimes' is not a valid concurrencyPolicy")
  has(lintProblems('CronWorkflow', cron({})), 'spec.schedules', /is required/)
  const bad = cron({ schedule: '* * * * *', workflowSpec: { entrypoint: 'nope', templates: [{ name: 'main', ...container() }] } })
  has(lintProblems('CronWorkflow', bad), 'spec.workflowSpec.entrypoint', "template 'nope' undefined")
})

test('cron expression parser', () => {
  for (const ok of ['0 0 1 1 *', '5,10-20/5 */2 ? JAN-mar sun', '@yearly', '@every 30s', 'TZ=UTC 0 0 * * *', '0 0 * * 6']) assert.equal(cronScheduleError(ok), undefined, ok)
  for (const bad of ['', '* * * * 7', '* * * * * *', '@fortnightly', '@every soon', '1-2-3 * * * *', '*/0 * * * *', '5-1 * * * *', 'x * * * *', 'CRON_TZ=Nowhere/City * * * * *']) {
    assert.ok(cronScheduleError(bad), `expected ${bad} to be rejected`)
  }
})

test('multiple problems are reported together', () => {
  const obj = wf({
    entrypoint: 'nope',
    templates: [
      { name: 'main', steps: [[{ name: 's', template: 'ghost' }]] },
      { name: 'main', container: { image: 1 } },
      { name: 'c', container: { image: 'a', args: ['{{inputs.parameters.q}}'] }, script: { image: 'a', source: '' } },
    ],
  }, { name: 'Nope' })
  const problems = lintProblems('Workflow', obj)
  for (const p of [
    'spec.templates[1].container.image',
    'metadata.name',
    'spec.templates[1].name',
    'spec.templates[0].steps[0][0].template',
    'spec.templates[2]',
    'spec.templates[2].container.args[0]',
    'spec.entrypoint',
  ]) assert.ok(paths(problems).includes(p), `${p} missing from ${formatProblems(problems)}`)
  assert.equal(formatProblems(problems).split('; ').length, problems.length)
})
