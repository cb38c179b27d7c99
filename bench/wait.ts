import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { startEmulator } from '../emulator/index.js'
import { fmt, ONE_IP, percentile, rssMb, startServerProcess } from './lib.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const N = Number(process.env.BENCH_WAITERS ?? 1000)
const RATE = Number(process.env.BENCH_FINISH_RATE ?? 500) // workflows finished per second
const WORKERS = Number(process.env.BENCH_CLIENT_THREADS ?? 2)

/** Waiting clients in worker threads: each GETs …/{name}/wait and notes when its answer has fully arrived. */
const clientCode = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
const arrived = {}
const statuses = {}
let done = 0
for (const name of workerData.names) {
  http.get(workerData.url + '/api/v1/workflows/argo/' + name + '/wait?timeoutSeconds=600', { agent }, (res) => {
    res.on('data', () => {})
    res.on('end', () => {
      arrived[name] = performance.timeOrigin + performance.now()
      statuses[res.statusCode + ' ' + res.headers['argo-wait-result']] = (statuses[res.statusCode + ' ' + res.headers['argo-wait-result']] || 0) + 1
      if (++done === workerData.names.length) parentPort.postMessage({ arrived, statuses })
    })
  }).on('error', (e) => parentPort.postMessage({ error: e.message }))
}
`

const name = (i: number) => `w-${String(i).padStart(4, '0')}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function run(): Promise<void> {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  for (let i = 0; i < N; i++) {
    emulator.create(WF, {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: name(i), labels: { bench: 'wait' } },
      spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
      status: { phase: 'Running', startedAt: new Date().toISOString(), progress: '0/1' },
    })
  }
  const kubeconfig = await emulator.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'bench-')), 'kubeconfig'))
  const { child, url } = await startServerProcess(['--port', '0', '--host', '127.0.0.1', '--secure=false', '--auth-mode=server', '--kubeconfig', kubeconfig, '--loglevel', 'error', '--max-wait-seconds', '600', ...ONE_IP])
  const pid = child.pid as number
  try {
    console.log(`wait benchmark: ${N} concurrent GET /api/v1/workflows/argo/{name}/wait on ${N} running workflows, finished at ${RATE}/s`)
    await sleep(1000)
    const watchesBefore = emulator.openWatches(/workflows/)
    const rssBefore = rssMb(pid)
    const gets = () => emulator.requestCount({ method: 'GET', path: /\/workflows\/w-\d+$/ })
    const names = Array.from({ length: N }, (_, i) => name(i))
    const per = Math.ceil(N / WORKERS)
    const results: Promise<{ arrived: Record<string, number>; statuses: Record<string, number>; error?: string }>[] = []
    const workers = Array.from({ length: WORKERS }, (_, w) => {
      const worker = new Worker(clientCode, { eval: true, workerData: { url, names: names.slice(w * per, (w + 1) * per) } })
      results.push(new Promise((r) => worker.once('message', r)))
      return worker
    })
    // Every waiter has read its workflow (one GET each) and registered: then the watch count and RSS under load.
    while (gets() < N) await sleep(50)
    await sleep(1000)
    const watchesWith = emulator.openWatches(/workflows/)
    const rssWith = rssMb(pid)
    const finished: Record<string, number> = {}
    const start = performance.now()
    for (let i = 0; i < N; i++) {
      const now = new Date().toISOString()
      finished[name(i)] = performance.timeOrigin + performance.now()
      emulator.patch(WF, name(i), { status: { phase: i % 10 === 0 ? 'Failed' : 'Succeeded', finishedAt: now, progress: '1/1' } })
      const due = start + ((i + 1) * 1000) / RATE
      await sleep(Math.max(0, due - performance.now()))
    }
    const reports = await Promise.all(results)
    await Promise.all(workers.map((w) => w.terminate()))
    const delays: number[] = []
    const statuses: Record<string, number> = {}
    for (const r of reports) {
      if (r.error) throw new Error(r.error)
      for (const [n, t] of Object.entries(r.arrived)) delays.push(t - (finished[n] as number))
      for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v
    }
    delays.sort((a, b) => a - b)
    console.log(`  answers: ${Object.entries(statuses).map(([k, v]) => `${v} × ${k}`).join(', ')}`)
    console.log(`  upstream workflow watches: ${watchesBefore} before the waiters, ${watchesWith} with ${N} waiters`)
    console.log(`  server RSS: ${rssBefore.toFixed(0)} MB before, ${rssWith.toFixed(0)} MB with ${N} waiters (${(((rssWith - rssBefore) * 1024) / N).toFixed(1)} KB per waiter)`)
    console.log(`  finish → answer delay: p50 ${fmt(percentile(delays, 50))} ms, p99 ${fmt(percentile(delays, 99))} ms, max ${fmt(delays[delays.length - 1] ?? NaN)} ms`)
  } finally {
    child.kill('SIGTERM')
    await emulator.close()
  }
}
