import type { Stack } from '../harness/stack.js'

export const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }

export type Wf = {
  metadata: { name: string; uid: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  status?: { phase?: string; message?: string }
}

/** A workflow body whose single container succeeds, or fails when `fail` (the runner reads `exit 1`). */
export function job(o: { generateName?: string; name?: string; fail?: boolean; param?: string } = {}) {
  return {
    metadata: o.name ? { name: o.name } : { generateName: o.generateName ?? 'job-' },
    spec: {
      entrypoint: 'main',
      arguments: { parameters: [{ name: 'p', value: o.param ?? 'v' }] },
      templates: [{ name: 'main', container: { image: 'busybox', command: ['sh', '-c', o.fail ? 'exit 1' : 'echo ok'] } }],
    },
  }
}

/** POST /api/v1/workflows/argo with the given extension headers. */
export function create(s: Stack, body: unknown, headers: Record<string, string> = {}) {
  return s.json<Wf>('/api/v1/workflows/argo', { method: 'POST', json: { workflow: body }, headers })
}

/** Marks a workflow finished in Kubernetes, as a controller would. */
export function finish(s: Stack, name: string, phase = 'Succeeded') {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  return s.emulator.patch(WF, name, { status: { phase, startedAt: now, finishedAt: now } })
}

export { until } from '../archive/helpers.js'
