import type { ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { startEmulator } from '../emulator/index.js'
import { cpuMs, fmt, percentile, rssAfterGcMb, rssMb, startServerProcess } from './lib.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const RATE = 50 // workflow updates per second
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WORKERS = Number(process.env.BENCH_CLIENT_THREADS ?? 2)

/**
 * SSE clients in worker threads, so reading 1,000 streams does not slow the process that times the updates. Each is
 * a plain TCP connection sending the GET (Accept: text/event-stream) and scanning the bytes for the timestamp:
 * no HTTP parser, no JSON parsing. On these 2 shared cores the readers compete with the server for CPU, so the
 * cheaper they are, the more the figures say about the server (clients on another machine would cost it nothing).
 */
const clientCode = `
const { parentPort, workerData } = require('node:worker_threads')
const net = require('node:net')
const { hostname, port, pathname } = new URL(workerData.url)
const request = 'GET ' + pathname + ' HTTP/1.1\\r\\nHost: ' + hostname + '\\r\\nAccept: text/event-stream\\r\\n\\r\\n'
const latencies = []
const MARK = Buffer.from('"bench/sent":"')
let connected = 0
for (let i = 0; i < workerData.clients; i++) {
  const s = net.connect(Number(port), hostname, () => s.write(request))
  let headers = false
  s.on('data', (d) => {
    const now = performance.timeOrigin + performance.now()
    if (!headers) {
      headers = true
      if (!d.toString('latin1', 0, 15).startsWith('HTTP/1.1 200')) throw new Error(d.toString())
      if (++connected === workerData.clients) parentPort.postMessage({ connected })
    }
    if (!workerData.measuring) return
    let at = 0
    while ((at = d.indexOf(MARK, at)) >= 0) {
      at += MARK.length
      latencies.push(now - Number(d.toString('latin1', at, d.indexOf(34, at))))
    }
  })
}
parentPort.on('message', (m) => {
  if (m === 'measure') workerData.measuring = true
  if (m === 'report') parentPort.postMessage({ latencies })
})
`

async function level(url: string, clients: number, update: (i: number) => void, server: ChildProcess) {
  const pid = server.pid as number
  const baseRss = await rssAfterGcMb(server) // the same process just before these clients connect
  const per = Math.ceil(clients / WORKERS)
  const workers = Array.from({ length: Math.min(WORKERS, clients) }, (_, w) =>
    new Worker(clientCode, { eval: true, workerData: { url: `${url}/api/v1/workflow-events/argo`, clients: Math.min(per, clients - w * per), measuring: false } }))
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject) // e.g. a client got no 200
  })))
  await new Promise((r) => setTimeout(r, 1000))
  const idleRss = rssMb(pid)
  const gcRss = await rssAfterGcMb(server)
  workers.forEach((w) => w.postMessage('measure'))
  const start = performance.now()
  const [serverCpu0, benchCpu0] = [cpuMs(pid), cpuMs(process.pid)]
  for (let i = 0; i < RATE * SECONDS; i++) {
    update(i)
    const due = start + ((i + 1) * 1000) / RATE
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
  }
  const wall = performance.now() - start
  const cpu = { server: (cpuMs(pid) - serverCpu0) / wall, bench: (cpuMs(process.pid) - benchCpu0) / wall }
  await new Promise((r) => setTimeout(r, 1000))
  const rss = rssMb(pid)
  const lat: number[] = []
  for (const w of workers) {
    const report = new Promise<{ latencies: number[] }>((r) => w.once('message', r))
    w.postMessage('report')
    for (const v of (await report).latencies) lat.push(v)
    await w.terminate()
  }
  lat.sort((a, b) => a - b)
  return { clients, events: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), rss, idleRss, gcRss, growthKb: ((gcRss - baseRss) * 1024) / clients, cpu }
}

export async function run(): Promise<void> {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  for (let i = 0; i < 100; i++) emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `w-${i}`, annotations: {} }, spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] }, status: { phase: 'Running' } })
  const kubeconfig = await emulator.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'bench-')), 'kubeconfig'))
  const { child, url } = await startServerProcess(['--port', '0', '--host', '127.0.0.1', '--secure=false', '--auth-mode=server', '--kubeconfig', kubeconfig, '--loglevel', 'error'])
  const update = (i: number) => {
    emulator.patch(WF, `w-${i % 100}`, { metadata: { annotations: { 'bench/sent': String(performance.timeOrigin + performance.now()) } }, status: { progress: `${i}/1000` } })
  }
  try {
    console.log(`watch benchmark: SSE clients on /api/v1/workflow-events/argo, ${RATE} workflow updates/s for ${SECONDS} s per level`)
    await level(url, 1, update, child) // warm-up, not reported
    const results = []
    for (const n of [1, 100, 1000]) {
      const r = await level(url, n, update, child)
      results.push(r)
      console.log(`  ${String(n).padStart(5)} clients: ${r.events} deliveries, latency p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms | upstream watches ${emulator.openWatches(/workflows/)} | server RSS ${r.idleRss.toFixed(0)} MB connected (after a full GC ${r.gcRss.toFixed(0)} MB${n >= 100 ? `, ${r.growthKb.toFixed(1)} KB per client` : ''}), ${r.rss.toFixed(0)} MB after the updates | CPU cores used: server ${fmt(r.cpu.server)}, clients + emulator ${fmt(r.cpu.bench)}`)
    }
    const [one, , thousand] = results as [typeof results[0], unknown, typeof results[0]]
    console.log(`  p99(1000)/p99(1) = ${fmt(thousand.p99 / one.p99)} (target <= 3)`)
    const perClient = (a: number, b: number) => `${(((a - b) * 1024) / 999).toFixed(1)} KB`
    console.log(`  RSS growth per client at 1000 = ${thousand.growthKb.toFixed(1)} KB (after a full GC, before and after they connect; target <= 50); between levels without a GC ${perClient(thousand.idleRss, one.idleRss)} connected, ${perClient(thousand.rss, one.rss)} after the updates (V8 heap sizing)`)
  } finally {
    child.kill('SIGTERM')
    await emulator.close()
  }
}
