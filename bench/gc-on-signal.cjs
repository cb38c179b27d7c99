// Benchmark harness only (node --expose-gc --require): SIGUSR2 runs a full GC and prints "gc done", so RSS can be
// read without V8's heap-sizing noise. Nothing in src/ knows about it; the server runs the same build as npm start.
// With it, the bytes V8 and its buffers hold (heapUsed + external): what the live objects take, which RSS (the
// allocator's and V8's free pages kept for reuse) only bounds. And the young generation's committed size: V8 grows it
// (up to 2 x 16 MB) with the allocation rate and keeps it through a full GC, a one-off in RSS, not a cost per client.
const v8 = require('node:v8')
process.on('SIGUSR2', () => {
  globalThis.gc()
  const m = process.memoryUsage()
  const young = v8.getHeapSpaceStatistics().filter((s) => s.space_name.startsWith('new')).reduce((n, s) => n + s.space_size, 0)
  process.stdout.write(`gc done ${m.heapUsed + m.external} ${young}\n`)
})
