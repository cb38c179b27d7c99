import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { loadAll } from 'js-yaml'
import { schemaProblems } from './schema.js'
function lenient(text: string): unknown[] {
  const lines = text.split('\n')
  for (let i = 0; i < 50; i++) {
    try { return loadAll(lines.join('\n'), { json: true }) } catch (e) {
      const m = (e as { reason?: string; mark?: { line: number } })
      if (m.reason !== 'deficient indentation' || !m.mark) throw e
      lines[m.mark.line] = '  ' + lines[m.mark.line]
    }
  }
  throw new Error('x')
}
function walk(d: string): string[] { return readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(p) ? [p] : [] }) }
let n = 0; let bad = 0; let ms = 0
for (const f of walk('/work/shared/argo/examples')) {
  for (const doc of lenient(readFileSync(f, 'utf8'))) {
    const kind = (doc as { kind?: string })?.kind
    if (!['Workflow', 'WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow'].includes(kind as string)) continue
    n++
    const s = performance.now()
    const p = schemaProblems(kind as 'Workflow', doc)
    ms += performance.now() - s
    if (p.length) { bad++; console.log(f, JSON.stringify(p).slice(0, 600)) }
  }
}
console.log({ n, bad, avgMs: ms / n })
