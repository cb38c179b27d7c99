import type { Stack } from '../harness/stack.js'

export const WF = { group: 'argoproj.io', resource: 'workflows', namespace: 'argo' }
export const STATUS = 'workflows.argoproj.io/workflow-archiving-status'

let clock = Date.parse('2026-03-01T00:00:00Z')

/** A finished workflow written straight into the emulator, as a controller would leave it. */
export function finished(s: Pick<Stack, 'emulator'>, name: string, o: { phase?: string; labels?: Record<string, string>; namespace?: string; finishedAt?: string; message?: string } = {}) {
  clock += 60_000
  const finishedAt = o.finishedAt ?? new Date(clock).toISOString().replace('.000', '')
  return s.emulator.create({ ...WF, namespace: o.namespace ?? 'argo' }, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name, labels: { 'workflows.argoproj.io/completed': 'true', ...o.labels } },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }], arguments: { parameters: [{ name: 'p', value: 'v' }] } },
    status: {
      phase: o.phase ?? 'Succeeded', startedAt: new Date(Date.parse(finishedAt) - 30_000).toISOString().replace('.000', ''), finishedAt,
      progress: '1/1', ...(o.message ? { message: o.message } : {}),
      nodes: { [name]: { id: name, name, displayName: name, type: 'Pod', phase: o.phase ?? 'Succeeded', templateName: 'main' } },
    },
  })
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export const liveStatus = (s: Pick<Stack, 'emulator'>, name: string, ns = 'argo') => s.emulator.get({ ...WF, namespace: ns }, name)?.metadata.labels?.[STATUS]

export const archiveArgs = ['--archive-lease-seconds', '1']

/** The archiving Lease as a crashed leader leaves it: freshly renewed, so no other server leads for `seconds`. */
export function crashedLeader(s: Pick<Stack, 'emulator'>, seconds: number): void {
  const renewTime = new Date().toISOString().replace('Z', '000Z')
  s.emulator.patch({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'argo' }, 'argo-server-archiver',
    { spec: { holderIdentity: 'crashed', renewTime, leaseDurationSeconds: seconds } })
}
