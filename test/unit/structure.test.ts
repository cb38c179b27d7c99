// The codebase's own rules (README "Layout"), checked on every run: CI runs `npm test`, and tsx does not type-check.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'

const SRC = resolve('src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

interface Import { from: string; to: string; line: number }

/** Every import, export-from and dynamic import of src/, resolved: a file of src/ or a package name. */
function imports(): Import[] {
  const out: Import[] = []
  for (const file of files(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
    const visit = (n: ts.Node): void => {
      let spec: string | undefined
      if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) spec = n.moduleSpecifier.text
      else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) spec = n.arguments[0].text
      if (spec) {
        const to = spec.startsWith('.') ? resolve(dirname(file), spec).replace(/\.js$/, '.ts')
          : spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec)
        out.push({ from: file, to, line: source.getLineAndCharacterOfPosition(n.getStart()).line + 1 })
      }
      ts.forEachChild(n, visit)
    }
    visit(source)
  }
  return out
}

const where = (i: Import) => `${relative('.', i.from)}:${i.line} imports ${i.to.startsWith('/') ? relative('.', i.to) : i.to}`
/** src/<folder>/…: the folder; a file directly in src/: '' (the wiring: app, server, main) */
const folderOf = (file: string) => {
  const parts = relative(SRC, file).split('/')
  return parts.length > 1 ? (parts[0] as string) : ''
}
const INFRA = new Set(['config', 'http', 'kube', 'db'])
const layer = (folder: string) => folder === 'lib' ? 0 : INFRA.has(folder) ? 1 : folder === '' ? 3 : 2

test('the code type-checks (strict tsconfig, src/, test/, emulator/, bench/, scripts/)', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { encoding: 'utf8' })
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
})

test('imports go one way: src/lib imports nothing of src/ outside it; infrastructure (config, http, kube, db) nothing of the services', () => {
  const wrong = imports().filter((i) => i.to.startsWith(`${SRC}/`) && layer(folderOf(i.to)) > layer(folderOf(i.from)))
  assert.deepEqual(wrong.map(where), [])
})

test("a service uses another only through that service's index.ts (its surface)", () => {
  const service = (folder: string) => layer(folder) === 2 && folder !== 'sandbox'
  const wrong = imports().filter((i) => {
    if (!i.to.startsWith(`${SRC}/`)) return false
    const [from, to] = [folderOf(i.from), folderOf(i.to)]
    return service(from) && service(to) && from !== to && relative(join(SRC, to), i.to) !== 'index.ts'
  })
  assert.deepEqual(wrong.map(where), [])
})

test('no import cycles between files of src/', () => {
  const graph = new Map<string, string[]>()
  for (const i of imports()) if (i.to.startsWith(`${SRC}/`)) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to])
  const cycles: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (f: string): void => {
    state.set(f, 'open')
    path.push(f)
    for (const to of graph.get(f) ?? []) {
      if (state.get(to) === 'open') cycles.push([...path.slice(path.indexOf(to)), to].map((p) => relative(SRC, p)).join(' -> '))
      else if (!state.has(to)) visit(to)
    }
    path.pop()
    state.set(f, 'done')
  }
  for (const f of graph.keys()) if (!state.has(f)) visit(f)
  assert.deepEqual(cycles, [])
})

test('each client library is imported only where it is wrapped', () => {
  const allowed: Record<string, RegExp> = {
    '@kubernetes/client-node': /^kube\//,
    pg: /^db\//,
    kysely: /^(db|archive)\//,
    'openid-client': /^auth\/sso\//,
    pino: /^http\/log\.ts$/,
    'fastify-type-provider-zod': /^http\/openapi\.ts$/,
  }
  const wrong = imports().filter((i) => allowed[i.to] && !allowed[i.to]?.test(relative(SRC, i.from)))
  assert.deepEqual(wrong.map(where), [])
})

test('no `any` in src/', () => {
  const found = files(SRC).flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((line, n) =>
    /(:\s*any\b|\bas any\b|<any>|@ts-ignore|@ts-expect-error)/.test(line.replace(/\/\/.*$|'[^']*'|`[^`]*`/g, '')) ? [`${relative('.', f)}:${n + 1}: ${line.trim()}`] : []))
  assert.deepEqual(found, [])
})
