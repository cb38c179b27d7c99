// Benchmark harness only (node --expose-gc --require): SIGUSR2 runs a full GC and prints "gc done", so RSS can be
// read without V8's heap-sizing noise. Nothing in src/ knows about it; the server runs the same build as npm start.
process.on('SIGUSR2', () => {
  globalThis.gc()
  process.stdout.write('gc done\n')
})
