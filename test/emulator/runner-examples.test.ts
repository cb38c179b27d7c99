// Every upstream example Workflow runs to a terminal phase under the simulated controller.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { examples } from '../harness/examples.js'
import { startEmulator } from '../../emulator/index.js'
import { startRunner } from '../../emulator/runner.js'
import type { KubeObject, ResourceRef } from '../../emulator/types.js'

const NS = 'argo'
const REFS: Record<string, ResourceRef> = {
  Workflow: { group: 'argoproj.io', resource: 'workflows', namespace: NS },
  WorkflowTemplate: { group: 'argoproj.io', resource: 'workflowtemplates', namespace: NS },
  ClusterWorkflowTemplate: { group: 'argoproj.io', resource: 'clusterworkflowtemplates' },
}
const WF = REFS.Workflow as ResourceRef
/**
 * Examples a real apiserver refuses (422): fun-with-gifs indents generateName under labels, and "fun-with-gifs-" is
 * no label value (it must end with an alphanumeric character). Upstream labels it workflows.argoproj.io/no-test.
 */
const REFUSED = new Set(['fun-with-gifs.yaml'])

type Rec = Record<string, unknown>
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : {})

function docs(): { file: string; doc: KubeObject }[] {
  return examples().map(({ file, doc }) => ({ file, doc: rec(doc) as KubeObject }))
}

test('every example Workflow reaches a terminal phase with a bounded node count', async () => {
  const em = await startEmulator({ namespaces: ['default', NS] })
  const errors: string[] = []
  const runner = startRunner(em, { stepMs: 10, log: (m, e) => errors.push(`${m} ${String(e ?? '')}`) })
  try {
    const all = docs()
    for (const { doc } of all) {
      const ref = doc.kind === 'WorkflowTemplate' || doc.kind === 'ClusterWorkflowTemplate' ? REFS[doc.kind] : undefined
      if (ref && !em.get(ref, doc.metadata.name ?? '')) em.create(ref, { ...doc, metadata: { ...doc.metadata, ...(ref.namespace ? { namespace: NS } : {}) } })
    }
    const submitted: { file: string; name: string }[] = []
    for (const { file, doc } of all.filter((d) => d.doc.kind === 'Workflow')) {
      const { name, ...meta } = doc.metadata
      if (REFUSED.has(file)) {
        // refused as a real apiserver refuses it, and not run
        assert.throws(() => em.create(WF, { ...doc, metadata: { ...meta, generateName: 'refused-', namespace: NS } }), { code: 422 })
        continue
      }
      const created = em.create(WF, { ...doc, metadata: { ...meta, generateName: meta.generateName ?? `${name ?? 'wf'}-`, namespace: NS } })
      submitted.push({ file, name: created.metadata.name ?? '' })
    }
    assert.ok(submitted.length > 150, `found ${submitted.length} example workflows`)
    await runner.idle()
    // the ones waiting on a suspend (or spec.suspend) are terminated, as a user would
    for (const { name } of submitted) {
      if (rec(em.get(WF, name)?.status).phase === 'Running') em.patch(WF, name, { spec: { shutdown: 'Terminate' } })
    }
    await runner.idle()
    const phases: Record<string, number> = {}
    for (const { file, name } of submitted) {
      const st = rec(em.get(WF, name)?.status)
      const phase = String(st.phase)
      phases[phase] = (phases[phase] ?? 0) + 1
      assert.ok(['Succeeded', 'Failed', 'Error'].includes(phase), `${file}: phase ${phase}`)
      assert.ok(Object.keys(rec(st.nodes)).length <= 500, `${file}: too many nodes`)
    }
    assert.ok((phases.Succeeded ?? 0) > submitted.length / 2, `phases ${JSON.stringify(phases)}`)
    assert.deepEqual(errors, [])
  } finally {
    await runner.stop()
    await em.close()
  }
})
