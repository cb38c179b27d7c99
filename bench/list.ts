import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '../emulator/index.js'
import { fmt, measure, ONE_IP, rssMb, startServerProcess } from './lib.js'

const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
const N = Number(process.env.BENCH_REQUESTS ?? 300)

/** A ~3 KB finished workflow with realistic labels and a few nodes. */
function workflow(i: number) {
  const name = `bench-${i}`
  const nodes: Record<string, unknown> = {}
  for (let n = 0; n < 4; n++) {
    nodes[`${name}-${n}`] = { id: `${name}-${n}`, name: `${name}[${n}].step`, displayName: 'step', type: 'Pod', templateName: 'main', phase: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:10Z', progress: '1/1', resourcesDuration: { cpu: 1, memory: 5 }, outputs: { exitCode: '0' }, hostNodeName: 'node-1' }
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name, labels: { team: `team-${i % 20}`, env: i % 2 ? 'prod' : 'dev', 'workflows.argoproj.io/completed': 'true', 'workflows.argoproj.io/phase': 'Succeeded' }, annotations: { 'example.com/owner': `owner-${i % 50}` } },
    spec: { entrypoint: 'main', arguments: { parameters: [{ name: 'message', value: `hello ${i}` }] }, templates: [{ name: 'main', inputs: { parameters: [{ name: 'message' }] }, container: { image: 'busybox:1.36', command: ['sh', '-c'], args: ['echo {{inputs.parameters.message}}; sleep 1'], resources: { requests: { cpu: '100m', memory: '64Mi' } } } }] },
    status: { phase: 'Succeeded', startedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), finishedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000 + 10_000).toISOString(), progress: '4/4', estimatedDuration: 10, resourcesDuration: { cpu: 4, memory: 20 }, nodes },
  }
}

async function size(n: number) {
  const emulator = await startEmulator({ namespaces: ['argo'], tls: true })
  for (let i = 0; i < n; i++) emulator.create(WF, workflow(i))
  const bytes = JSON.stringify(emulator.get(WF, 'bench-1')).length
  const kubeconfig = await emulator.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'bench-')), 'kubeconfig'))
  const { child, url } = await startServerProcess(['--port', '0', '--host', '127.0.0.1', '--secure=false', '--auth-mode=server', '--kubeconfig', kubeconfig, '--loglevel', 'error', ...ONE_IP])
  try {
    const selector = encodeURIComponent('team=team-3,env=prod')
    // Wait until the server's cache holds everything.
    for (;;) {
      const r = (await (await fetch(`${url}/api/v1/workflows/argo?listOptions.limit=1&fields=metadata&listOptions.fieldSelector=ext.showRemainingItemCount=true`)).json()) as { metadata: { remainingItemCount?: number } }
      if ((r.metadata.remainingItemCount ?? 0) + 1 >= n) break
      await new Promise((res) => setTimeout(res, 200))
    }
    const server = await measure(`${url}/api/v1/workflows/argo?listOptions.limit=50&listOptions.labelSelector=${selector}`, {}, N)
    const direct = await measure(`${emulator.url}/apis/argoproj.io/v1alpha1/namespaces/argo/workflows?limit=50&labelSelector=${selector}`, { authorization: `Bearer ${emulator.adminToken}` }, N, { ca: emulator.caPem })
    return { n, bytes, server, direct, rss: rssMb(child.pid as number) }
  } finally {
    child.kill('SIGTERM')
    await emulator.close()
  }
}

export async function run(): Promise<void> {
  console.log(`list benchmark: a page of 50 with a label selector, ${N} sequential requests per measurement`)
  const small = await size(1_000)
  const large = await size(50_000)
  for (const r of [small, large]) {
    console.log(`  ${r.n.toString().padStart(6)} workflows (~${(r.bytes / 1024).toFixed(1)} KB each): server p50 ${fmt(r.server.p50)} ms p99 ${fmt(r.server.p99)} ms | direct from the API p50 ${fmt(r.direct.p50)} ms p99 ${fmt(r.direct.p99)} ms | server RSS ${r.rss.toFixed(0)} MB`)
  }
  console.log(`  p50(50k)/p50(1k) = ${fmt(large.server.p50 / small.server.p50)} (target <= 1.5)`)
  console.log(`  server p50 / direct p50 at 1k = ${fmt(small.server.p50 / small.direct.p50)} (target <= 1.2)`)
  console.log(`  server RSS at 50k = ${large.rss.toFixed(0)} MB (target <= 400)`)
}
