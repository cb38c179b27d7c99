import { execSync } from 'node:child_process'
// npm run bench -- <name>: benchmarks that print ratios measured side by side in one run.
const name = process.argv[2] ?? 'list'
const benches: Record<string, () => Promise<unknown>> = {
  list: async () => (await import('./list.js')).run(),
  archive: async () => (await import('./archive.js')).run(),
  watch: async () => (await import('./watch.js')).run(),
  wait: async () => (await import('./wait.js')).run(),
}
execSync('npm run build --silent', { stdio: 'inherit' })
const bench = benches[name]
if (!bench) {
  console.error(`unknown benchmark "${name}"; one of: ${Object.keys(benches).join(', ')}`)
  process.exit(2)
}
await bench()
process.exit(0)
