import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { loadAll } from 'js-yaml'
import { parseAllDocuments } from 'yaml'
function walk(d: string): string[] { return readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(p) ? [p] : [] }) }
for (const f of walk('/work/shared/argo/examples')) {
  try { loadAll(readFileSync(f, 'utf8'), { json: true }) } catch (e) { console.log('jsyaml', f, String(e).split('\n')[0]) ; 
    const docs = parseAllDocuments(readFileSync(f, 'utf8')); console.log('  yaml errors', docs.map(d => d.errors.length)) }
}
