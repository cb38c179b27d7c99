// Node 20's --test does not expand globs: list the files here, then run them with node's test runner.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function find(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : []
  })
}

const only = process.argv.slice(2)
const files = find('test').filter((f) => !only.length || only.some((o) => f.includes(o))).sort()
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' })
child.on('exit', (code) => process.exit(code ?? 1))
