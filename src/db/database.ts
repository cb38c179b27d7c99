import { Kysely, Migrator, PostgresDialect, type ColumnType, type Generated, type QueryResult, type RawBuilder } from 'kysely'
import pg from 'pg'
import { migrationProvider, type MigrationOptions } from '../../migrations/index.js'
import { ApiError, GrpcCode } from '../http/errors.js'

/** Upstream's archive tables (spec §6.1) plus our `resourceversion` (migrations/0002). */
export interface ArchivedWorkflowsTable {
  uid: string
  name: string
  phase: string
  namespace: string
  /** jsonb, written as text with `\u0000` replaced (spec §6.1) */
  workflow: string
  startedat: ColumnType<Date, Date | string, Date | string>
  finishedat: ColumnType<Date, Date | string, Date | string>
  clustername: string
  instanceid: string
  creationtimestamp: ColumnType<Date | null, Date | string | null, Date | string | null>
  /**
   * The live version the row is current with (NULL: written by upstream, unknown): the version archived, then that of
   * our Archived label patch, which changes nothing the row holds (ArchiveWriter.current).
   */
  resourceversion: ColumnType<string | null, string | number | null, string | number | null>
}

export interface ArchivedWorkflowLabelsTable {
  clustername: string
  uid: string
  name: string
  value: string
  /** the workflow's finishedat and namespace (migrations/0003), NULL on rows not yet backfilled */
  finishedat: ColumnType<Date | null, Date | string | null, Date | string | null>
  namespace: string | null
}

export interface Database {
  argo_archived_workflows: ArchivedWorkflowsTable
  argo_archived_workflows_labels: ArchivedWorkflowLabelsTable
  schema_history: { schema_version: Generated<number> }
}

export interface Db {
  readonly kysely: Kysely<Database>
  /** a statement run on the pool directly (see execute) */
  query(sql: string, parameters: readonly unknown[]): Promise<pg.QueryResult>
  close(): Promise<void>
}

// Kubernetes times are UTC and upstream stores them in `timestamp without time zone`: read them back as UTC.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (v) => new Date(`${v.replace(' ', 'T')}Z`))

/** Postgres' undefined_table (42P01): a table an optional migration, or the controller, has not created. */
export const isUndefinedTable = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '42P01'

// Socket errors, SQLSTATE class 08 (connection_exception), and admin_shutdown / crash_shutdown / cannot_connect_now (57P01-3).
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03'])

const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect'

/** Whether an error (or its cause) means Postgres cannot be reached right now, as opposed to refusing what was asked. */
export function isUnreachable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false
  const e = err as { code?: unknown; message?: unknown; cause?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (UNREACHABLE_CODES.has(code) || /^08/.test(code)) return true
  // pg's wording for a dropped connection or a connect timeout, and pg-pool's for its wait for a free connection
  // (kept for the archiver's backoff: against a host that stalls every connect, the queued waits time out first)
  if (typeof e.message === 'string' && (e.message.includes('Connection terminated') || e.message === POOL_WAIT_TIMEOUT)) return true
  return isUnreachable(e.cause)
}

export const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'])

/**
 * A connection URL with libpq's `sslmode` meanings, which upstream's Go driver shares: require and prefer encrypt
 * without verifying the certificate (a private CA or self-signed one is accepted), verify-ca checks the chain,
 * verify-full the host too. pg's own reading verifies the certificate for every mode but disable, so
 * `?sslmode=require` against RDS or an in-cluster Postgres failed at start. pg cannot fall back between TLS and
 * plain: allow (plain first) is disable, and prefer (TLS first) asks the server once, here, whether it offers TLS.
 * @throws Error for an sslmode libpq does not have
 */
export async function withLibpqSslModes(connectionString: string): Promise<string> {
  let u: URL
  try {
    u = new URL(connectionString)
  } catch {
    return connectionString // not a URL (pg reads a bare socket path too): nothing to map
  }
  const mode = u.searchParams.get('sslmode')
  if (mode === null || u.searchParams.has('uselibpqcompat')) return connectionString
  if (!SSL_MODES.has(mode)) throw new Error(`sslmode "${mode}" is not one of ${[...SSL_MODES].join(', ')}`)
  u.searchParams.set('uselibpqcompat', 'true')
  if (mode === 'allow' || (mode === 'prefer' && !(await offersTls(u.toString())))) u.searchParams.set('sslmode', 'disable')
  return u.toString()
}

/** Whether the server accepts TLS; true when it cannot be asked (unreachable): TLS is what prefer tries first. */
async function offersTls(connectionString: string): Promise<boolean> {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 })
  c.on('error', () => {})
  try {
    await c.connect()
    return true
  } catch (err) {
    return !(err instanceof Error && err.message.includes('does not support SSL'))
  } finally {
    await c.end().catch(() => {})
  }
}

/**
 * Runs a query for a request: Postgres unreachable is Unavailable (503, code 14) to the caller, not an internal error.
 * Built and compiled by kysely, run on the pool directly: kysely's executor costs ~0.1 ms a query on this path
 * (its layers and an Error per query for its stack traces), a tenth of the archive page's overhead over its SQL.
 */
export async function execute<R>(db: Db, q: RawBuilder<R>): Promise<QueryResult<R>> {
  const { sql: text, parameters } = q.compile(db.kysely)
  try {
    const { command, rowCount, rows } = await db.query(text, parameters)
    const wrote = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE'
    return { rows: rows as R[], numAffectedRows: wrote ? BigInt(rowCount ?? 0) : undefined }
  } catch (err) {
    // pg-pool's wait for a free connection ended: every connection is held (a long lock, a burst) or connecting.
    const why = err instanceof Error && err.message === POOL_WAIT_TIMEOUT ? ': no connection became free in time' : ''
    if (isUnreachable(err)) throw new ApiError(GrpcCode.Unavailable, `the archive database is unavailable${why}`, { cause: err })
    const code = String((err as { code?: unknown } | null)?.code ?? '')
    // SQLSTATE class 28, invalid_authorization_specification: the credentials stopped working (a rotated password).
    // Not the caller's fault nor a bug: unavailable until an operator fixes them (at start it stops the start instead).
    if (code.startsWith('28')) {
      throw new ApiError(GrpcCode.Unavailable, 'the archive database is unavailable: it refuses the server\'s credentials', { cause: err })
    }
    // undefined_table, undefined_column: a schema changed under the server (a table dropped, migrations rolled back)
    if (code === '42P01' || code === '42703') throw ApiError.internal("the archive database lacks this server's schema", err)
    throw err
  }
}

/**
 * Session settings of every connection. Parallel query is off: a page is an index range scan of ~50 rows, and with
 * a label selector Postgres chose a parallel plan whose workers each scanned their share of the index (at 1M rows
 * 280 ms against 65 ms serial, measured with EXPLAIN ANALYZE on the benchmark's data).
 */
export const SESSION_OPTIONS = '-c timezone=UTC -c max_parallel_workers_per_gather=0 ' +
  // The server notices a vanished client within ~90 s (not the OS's 2 h), ending its session and releasing its
  // locks, e.g. the label backfill's advisory lock after a network cut.
  '-c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3'

/**
 * A pool on `connectionString`. Connection failures surface on the first query (the archiver retries them);
 * statements are bounded so a stuck database fails a request instead of hanging it.
 */
export function openDatabase(connectionString: string, opts: { max?: number; statementTimeoutMs?: number } = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    // 0 is not sent (pg skips falsy settings): the server's, role's or database's default applies.
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    // TCP keepalive on our side after 60 s idle (0 would mean the OS default, 2 h); the server's side is in SESSION_OPTIONS.
    keepAlive: true,
    keepAliveInitialDelayMillis: 60_000,
    options: SESSION_OPTIONS,
  })
  // A client losing its connection (Postgres restarted, a failover, pg_terminate_backend) must not crash the process.
  // Idle in the pool, pg-pool reports it on the pool; checked out with no statement running (between the statements
  // of a transaction), pg emits it on the client, where pg-pool listens only while the client is idle. The work on it
  // fails on its next statement, and the pool drops the broken client when it is released.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { kysely, query: (text, parameters) => pool.query(text, [...parameters]), close: () => kysely.destroy() }
}

/** The migrations not applied to the database at `connectionString` (all of them on an empty one). */
export async function pendingMigrations(connectionString: string, opts?: MigrationOptions): Promise<string[]> {
  const db = openDatabase(connectionString, { max: 1 })
  try {
    const all = await new Migrator({ db: db.kysely, provider: migrationProvider(opts) }).getMigrations()
    return all.filter((m) => !m.executedAt).map((m) => m.name)
  } finally {
    await db.close()
  }
}

/**
 * Runs pending migrations on a connection of their own without the statement timeout: building an index on a large
 * upstream archive takes longer than any request may (with the 30 s timeout, an index build on 1M workflows failed
 * at start-up; migration 0003 now leaves its indexes to a CONCURRENTLY build after start). Safe with
 * several replicas starting together: kysely holds a Postgres advisory lock for the run, so one migrates and the
 * others then find nothing to do.
 * @throws Error naming the failed migration
 */
export async function migrateToLatest(connectionString: string, opts?: MigrationOptions): Promise<string[]> {
  const db = openDatabase(connectionString, { max: 1, statementTimeoutMs: 0 })
  const migrator = new Migrator({ db: db.kysely, provider: migrationProvider(opts) })
  const { error, results } = await migrator.migrateToLatest().finally(() => db.close())
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) {
    const why = error instanceof Error ? error.message : String(error ?? 'failed')
    throw new Error(`database migration${failed ? ` ${failed.migrationName}` : 's'} failed: ${why}`, { cause: error })
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
