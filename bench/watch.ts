import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { startEmulator } from '../emulator/index.js'
import { afterGc, cpuMs, fmt, ONE_IP, percentile, rssMb, startServerProcess } from './lib.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const RATE = 50 // workflow updates per second
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WORKERS = Number(process.env.BENCH_CLIENT_THREADS ?? 2)

/**
 * SSE clients in worker threads, so reading 1,000 streams does not slow the process that times the updates. Each is
 * a plain TCP connection sending the GET (Accept: text/event-stream) and scanning the bytes for the timestamp:
 * no HTTP parser, no JSON parsing, and reads into one reused buffer (net's `onread`), not a Buffer and a stream
 * event per read. On these 2 shared cores the readers compete with the server for CPU, so the cheaper they are,
 * the more the figures say about the server (clients on another machine would cost it nothing).
 */
const clientCode = `
const { parentPort, workerData } = require('node:worker_threads')
const net = require('node:net')
const { hostname, port, pathname } = new URL(workerData.url)
const request = 'GET ' + pathname + ' HTTP/1.1\\r\\nHost: ' + hostname + '\\r\\nAccept: text/event-stream\\r\\n\\r\\n'
const latencies = []
const MARK = Buffer.from('"bench/sent":"')
const buffer = Buffer.alloc(256 * 1024)
let connected = 0
let measuring = false
for (let i = 0; i < workerData.clients; i++) {
  let headers = false
  const callback = (n, d) => {
    const now = performance.timeOrigin + performance.now()
    if (!headers) {
      headers = true
      if (!d.toString('latin1', 0, 15).startsWith('HTTP/1.1 200')) throw new Error(d.toString('latin1', 0, n))
      if (++connected === workerData.clients) parentPort.postMessage({ connected })
    }
    if (!measuring) return
    let at = 0
    while ((at = d.indexOf(MARK, at)) >= 0 && at < n) {
      at += MARK.length
      latencies.push(now - Number(d.toString('latin1', at, d.indexOf(34, at))))
    }
  }
  const s = net.connect({ port: Number(port), host: hostname, onread: { buffer, callback } }, () => s.write(request))
}
parentPort.on('message', (m) => {
  if (m === 'measure') measuring = true
  if (m === 'reset') latencies.length = 0
  if (m === 'report') parentPort.postMessage({ latencies })
})
`

/**
 * The floor: a bare Node server that writes each update, framed once, to every connection in a loop, with no
 * Kubernetes watch, parsing, filtering or HTTP framework in between. The same clients read it the same way, so
 * its figures show what this machine allows a single Node process fanning out over loopback TCP.
 */
const floorCode = `
const net = require('node:net')
const sockets = new Set()
const server = net.createServer((s) => {
  s.setNoDelay(true)
  s.once('data', () => {
    s.write('HTTP/1.1 200 OK\\r\\nContent-Type: text/event-stream\\r\\nCache-Control: no-cache\\r\\n\\r\\n')
    sockets.add(s)
  })
  s.on('close', () => sockets.delete(s))
  s.on('error', () => {})
})
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', (body) => {
  const frame = Buffer.from('data: {"result":' + body + '}\\n\\n')
  for (const s of sockets) s.write(frame)
})
`

interface Target {
  /** the stream URL the clients open */
  url: string
  /** makes update number i, stamped with the time it was made */
  update(i: number): void
  /** the serving process, for CPU and (ours only) RSS */
  child: ChildProcess
  rss: boolean
}

const tick = (start: number, i: number) => new Promise((r) => setTimeout(r, Math.max(0, start + ((i + 1) * 1000) / RATE - performance.now())))

async function level(t: Target, clients: number) {
  const pid = t.child.pid as number
  const base = t.rss ? await afterGc(t.child) : undefined // the same process just before these clients connect
  const per = Math.ceil(clients / WORKERS)
  const workers = Array.from({ length: Math.min(WORKERS, clients) }, (_, w) =>
    new Worker(clientCode, { eval: true, workerData: { url: t.url, clients: Math.min(per, clients - w * per) } }))
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject) // e.g. a client got no 200
  })))
  await new Promise((r) => setTimeout(r, 1000))
  const idleRss = rssMb(pid)
  const gc = t.rss ? await afterGc(t.child) : undefined
  const gcRss = gc?.rssMb ?? NaN
  // One second of updates first, not measured: the first events to 1,000 just-connected clients run cold code in
  // the fresh client threads and the server (a one-off backlog of up to ~100 ms that drains within a second).
  workers.forEach((w) => w.postMessage('measure'))
  let start = performance.now()
  for (let i = 0; i < RATE; i++) {
    t.update(i)
    await tick(start, i)
  }
  await new Promise((r) => setTimeout(r, 200))
  workers.forEach((w) => w.postMessage('reset'))
  start = performance.now()
  const [serverCpu0, benchCpu0] = [cpuMs(pid), cpuMs(process.pid)]
  for (let i = 0; i < RATE * SECONDS; i++) {
    t.update(RATE + i)
    await tick(start, i)
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
  return { clients, events: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), rss, idleRss, gcRss, growthKb: ((gcRss - (base?.rssMb ?? NaN)) * 1024) / clients,
    liveKb: (((gc?.liveMb ?? NaN) - (base?.liveMb ?? NaN)) * 1024) / clients, young: [base?.youngMb ?? NaN, gc?.youngMb ?? NaN], cpu }
}

async function startFloor(objectJson: () => string): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-floor-'))
  await writeFile(join(dir, 'floor.cjs'), floorCode)
  const child = fork(join(dir, 'floor.cjs'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port } = await new Promise<{ port: number }>((r) => child.once('message', r as (m: unknown) => void))
  return { url: `http://127.0.0.1:${port}/`, child, rss: false, update: () => child.send(`{"type":"MODIFIED","object":${objectJson()}}`) }
}

export async function run(): Promise<void> {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  const workflow = (i: number) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: `w-${i}`, annotations: {} }, spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] }, status: { phase: 'Running' } })
  for (let i = 0; i < 100; i++) emulator.create(WF, workflow(i))
  const kubeconfig = await emulator.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'bench-')), 'kubeconfig'))
  const { child, url } = await startServerProcess(['--port', '0', '--host', '127.0.0.1', '--secure=false', '--auth-mode=server', '--kubeconfig', kubeconfig, '--loglevel', 'error', ...ONE_IP])
  const sent = () => String(performance.timeOrigin + performance.now())
  const ours: Target = {
    url: `${url}/api/v1/workflow-events/argo`, child, rss: true,
    update: (i) => void emulator.patch(WF, `w-${i % 100}`, { metadata: { annotations: { 'bench/sent': sent() } }, status: { progress: `${i}/1000` } }),
  }
  let floor: Target | undefined
  try {
    console.log(`watch benchmark: SSE clients on /api/v1/workflow-events/argo, ${RATE} workflow updates/s for ${SECONDS} s per level (after 1 s unmeasured)`)
    await level(ours, 1) // warm-up, not reported
    const results = []
    for (const n of [1, 100, 1000]) {
      const r = await level(ours, n)
      results.push(r)
      console.log(`  ${String(n).padStart(5)} clients: ${r.events} deliveries, latency p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms | upstream watches ${emulator.openWatches(/workflows/)} | server RSS ${r.idleRss.toFixed(0)} MB connected (after a full GC ${r.gcRss.toFixed(0)} MB${n >= 100 ? `, ${r.growthKb.toFixed(1)} KB per client` : ''}), ${r.rss.toFixed(0)} MB after the updates | CPU cores used: server ${fmt(r.cpu.server)}, clients + emulator ${fmt(r.cpu.bench)}`)
    }
    // The floor sends the object ours sent last (the same size), with a fresh timestamp.
    const sample = JSON.stringify(emulator.get(WF, 'w-0'))
    floor = await startFloor(() => sample.replace(/"bench\/sent":"[^"]*"/, `"bench/sent":"${sent()}"`))
    const floors = []
    for (const n of [1, 1000]) {
      const r = await level(floor, n)
      floors.push(r)
      console.log(`  floor, ${String(n).padStart(4)} clients: latency p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms | CPU cores used: floor server ${fmt(r.cpu.server)}, clients ${fmt(r.cpu.bench)}`)
    }
    const [one, , thousand] = results as [typeof results[0], unknown, typeof results[0]]
    const [floorOne, floorThousand] = floors as [typeof floors[0], typeof floors[0]]
    console.log(`  p99(1000)/p99(1) = ${fmt(thousand.p99 / one.p99)} (target <= 3); the floor's: ${fmt(floorThousand.p99 / floorOne.p99)}; ours/floor at 1000 clients: p50 ${fmt(thousand.p50 / floorThousand.p50)}, p99 ${fmt(thousand.p99 / floorThousand.p99)}`)
    const perClient = (a: number, b: number) => `${(((a - b) * 1024) / 999).toFixed(1)} KB`
    console.log(`  RSS growth per client at 1000 = ${thousand.growthKb.toFixed(1)} KB (after a full GC, before and after they connect; target <= 50); between levels without a GC ${perClient(thousand.idleRss, one.idleRss)} connected, ${perClient(thousand.rss, one.rss)} after the updates (V8 heap sizing); V8's live bytes (heap used + external, after a full GC) ${thousand.liveKb.toFixed(1)} KB per client`)
    // The noise in the growth: V8 sizes its young generation to the allocation rate (1 to 32 MB) and a full GC keeps it.
    const [y0, y1] = thousand.young as [number, number]
    console.log(`  of that growth, V8's young generation went from ${y0.toFixed(0)} to ${y1.toFixed(0)} MB (${(((y1 - y0) * 1024) / 1000).toFixed(1)} KB per client; a one-off sizing to the load, at most 32 MB)`)
  } finally {
    child.kill('SIGTERM')
    floor?.child.kill('SIGTERM')
    await emulator.close()
  }
}
