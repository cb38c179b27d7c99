import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ArchiveWriter } from '../../src/archive/archive-repository.js'
import { Archiver } from '../../src/archive/archiver.js'
import { migrateToLatest, openDatabase } from '../../src/db/database.js'
import { KubeClient } from '../../src/kube/client.js'
import { loadKubeConfig } from '../../src/kube/config.js'
import { WorkflowStore } from '../../src/workflows/workflow-store.js'
import { freshDatabase } from '../harness/postgres.js'

test('Kubernetes unreachable while Postgres answers: the archiver waits out its backoff (the 1 s database check is for Postgres only)', async (t) => {
  // An apiserver address nothing listens on: every label patch fails with ECONNREFUSED, as a Postgres outage's do.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const dir = await mkdtemp(join(tmpdir(), 'kube-down-'))
  const url = await freshDatabase()
  await migrateToLatest(url, { offloadTable: 'argo_workflows' })
  const db = openDatabase(url)
  t.after(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n`)
  const store = new WorkflowStore()
  store.beginSync()
  store.syncPage([{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow',
    metadata: { name: 'done', namespace: 'argo', uid: 'u-1', resourceVersion: '5', labels: { 'workflows.argoproj.io/completed': 'true' } },
    status: { phase: 'Succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z' } }])
  store.endSync('5')
  const failures: number[] = []
  const archiver = new Archiver({
    store, writer: new ArchiveWriter(db, { clusterName: 'default', instanceId: '', managedNamespace: '' }),
    kube: new KubeClient(loadKubeConfig({ kind: 'file', path: kubeconfig })), instanceId: '', selector: [],
    backoffMs: { initial: 2_000, max: 10_000 }, log: (m) => void (m.includes('cannot archive') && failures.push(Date.now())),
  })
  t.after(() => archiver.stop())
  archiver.start(Promise.resolve())
  archiver.setLeader(true)
  await new Promise((r) => setTimeout(r, 5_000))
  // Backoff 2 s, then 4 s: attempts at 0 s and 2 s. Before, each failure's cause (ECONNREFUSED) was taken for
  // Postgres', the SELECT 1 answered, and the wait ended after a second every time: five or six attempts.
  assert.ok(failures.length >= 1 && failures.length <= 3, `${failures.length} attempts in 5 s`)
})
