import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { freshDatabase } from '../harness/postgres.js'
import { startStack } from '../harness/stack.js'
import { archiveArgs, finished, liveStatus, until, WF } from './helpers.js'

type Page = { items: { metadata: { name: string } }[] | null } | { code: number; message: string }

test('every archive connection held: the workflow list answers 503, never a page without the archived workflows', async (t) => {
  const url = await freshDatabase()
  const s = await startStack(t, { database: url, args: archiveArgs })
  for (const name of ['old-1', 'old-2', 'old-3']) finished(s, name)
  await until('archived', () => ['old-1', 'old-2', 'old-3'].every((n) => liveStatus(s, n) === 'Archived'))
  for (const name of ['old-1', 'old-2', 'old-3']) s.emulator.remove(WF, name)
  s.emulator.create(WF, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'running' }, spec: { entrypoint: 'main' }, status: { phase: 'Running' } })
  const all = ['old-1', 'old-2', 'old-3', 'running'].sort()
  const names = (b: Page) => ('items' in b ? (b.items ?? []).map((w) => w.metadata.name).sort() : [])
  await until('the list has them all', async () => JSON.stringify(names((await s.json<Page>('/api/v1/workflows/argo')).body)) === JSON.stringify(all))

  // Postgres answers, but a maintenance lock keeps every query of the archive waiting: the pool's 10 connections
  // fill up and the requests queued behind them give up after the pool's 5 s wait.
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.after(() => holder.end())
  await holder.query('BEGIN; LOCK TABLE argo_archived_workflows IN ACCESS EXCLUSIVE MODE')
  const pending = Array.from({ length: 14 }, () => s.json<Page>('/api/v1/workflows/argo'))
  const failedFirst = await Promise.race(pending.map(async (p) => {
    const r = await p
    return r.status === 503 ? r : undefined
  }))
  await holder.query('COMMIT')
  const answers = await Promise.all(pending)
  assert.deepEqual(failedFirst?.body, { code: 14, message: 'the archive database is unavailable: no connection became free in time' })
  for (const r of answers) {
    if (r.status === 200) assert.deepEqual(names(r.body), all, 'a 200 lists the archived workflows too')
    else assert.deepEqual([r.status, (r.body as { code: number }).code], [503, 14])
  }
  assert.ok(answers.some((r) => r.status === 200), 'the requests that had a connection answered once the lock went')
})
