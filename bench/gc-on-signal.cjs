// Benchmark harness only (node --expose-gc --require): SIGUSR2 runs a full GC and prints "gc done", so RSS can be
// read without V8's heap-sizing noise. Nothing in src/ knows about it; the server runs the same build as npm start.
// With it, the bytes V8 and its buffers hold (heapUsed + external): what the live objects take, which RSS (the
// allocator's and V8's free pages kept for reuse) only bounds.
process.on('SIGUSR2', () => {
  globalThis.gc()
  const m = process.memoryUsage()
  process.stdout.write(`gc done ${m.heapUsed + m.external}\n`)
})
