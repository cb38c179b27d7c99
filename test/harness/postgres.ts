import { randomBytes } from 'node:crypto'
import { chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, type TestContext } from 'node:test'
import pg from 'pg'
import { generateServerCert } from '../../emulator/tls.js'
import { startLocalPostgres, type LocalPostgres } from '../../src/sandbox/postgres.js'

let shared: Promise<{ pg: LocalPostgres; dir: string }> | undefined

// The Postgres child process would keep the test file's process alive: stop it once the file's tests are done.
after(async () => {
  if (!shared) return
  const { pg: server, dir } = await shared
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

/** One embedded Postgres per test process, started on first use and stopped after the file's last test. */
async function sharedPostgres(): Promise<LocalPostgres> {
  shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'argo-test-pg-'))
    return { pg: await startLocalPostgres(join(dir, 'data'), { persistent: false }), dir }
  })()
  return (await shared).pg
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** A fresh, empty database on the process's Postgres; the server's migrator creates the tables. */
export async function freshDatabase(): Promise<string> {
  const server = await sharedPostgres()
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  return withDatabase(server.url, name)
}

/**
 * TLS on with a self-signed certificate (as an in-cluster Postgres often has), applied by a configuration reload.
 * The key goes in the data directory, owned by whoever owns that (the `postgres` user when tests run as root).
 */
async function enableTls(url: string, dataDir: string): Promise<void> {
  const cert = await generateServerCert()
  const { uid, gid } = await stat(dataDir)
  for (const [file, pem] of [['server.crt', cert.certPem], ['server.key', cert.keyPem]] as const) {
    await writeFile(join(dataDir, file), pem, { mode: 0o600 })
    await chown(join(dataDir, file), uid, gid)
  }
  await sqlQuery(url, "ALTER SYSTEM SET ssl_cert_file = 'server.crt'")
  await sqlQuery(url, "ALTER SYSTEM SET ssl_key_file = 'server.key'")
  await sqlQuery(url, 'ALTER SYSTEM SET ssl = on')
  await sqlQuery(url, 'SELECT pg_reload_conf()')
}

/** A Postgres of its own that a test can stop and start again at the same URL (outage tests), optionally with TLS. */
export async function ownPostgres(t: TestContext, opts: { tls?: boolean } = {}): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'argo-test-own-pg-'))
  let running: LocalPostgres | undefined = await startLocalPostgres(join(dir, 'data'))
  const port = Number(new URL(running.url).port)
  const url = running.url
  if (opts.tls) await enableTls(url, join(dir, 'data'))
  t.after(async () => {
    await running?.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return {
    url,
    async stop() {
      await running?.stop()
      running = undefined
    },
    async start() {
      running = await startLocalPostgres(join(dir, 'data'), { port })
    },
  }
}

/** Runs SQL against a database directly (assertions on rows, fixtures). */
export async function sqlQuery<T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url })
  c.on('error', () => {}) // a connection dropped by a Postgres being stopped fails the query, not the process
  await c.connect()
  try {
    return (await c.query<T>(text, values)).rows
  } finally {
    await c.end()
  }
}
