import type { z } from 'zod'
import { PersistenceSettings, persistenceIssue, type SecretKey } from '../config/persistence.js'
import { SSL_MODES, withLibpqSslModes } from '../db/database.js'
import type { KubeClient } from '../kube/client.js'
import { labelRequirement, type Operator, type Requirement } from '../lib/label-selector.js'
import { parseTtlSeconds } from '../lib/go-values.js'

export interface Persistence {
  url: string
  /** this server writes the archive (persistence.archive; implied by --database-url) */
  archive: boolean
  clusterName: string
  /** the controller's node-status offload table (persistence.postgresql.tableName) */
  offloadTable: string
  ttlSeconds: number
  selector: Requirement[]
  skipMigrations: boolean
}

/** An archive TTL in seconds (upstream config/ttl.go), or an error naming it. */
function ttlSeconds(v: string): number {
  const seconds = parseTtlSeconds(v)
  if (seconds === undefined) throw new Error(`invalid duration "${v}"`)
  return seconds
}

const SELECTOR_OPERATORS: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' }

/**
 * metav1.LabelSelectorAsSelector, as upstream's controller reads the selector: every key, value and operator
 * validated, so `keep!: yes` or a value `a,b` is an error rather than another selector than the one written.
 * @throws Error (a LabelSelectorError for a key or value)
 */
function selectorOf(sel: PersistenceSettings['archiveLabelSelector']): Requirement[] {
  if (!sel) return []
  const reqs = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => labelRequirement(k, '=', [v]))
  for (const e of sel.matchExpressions ?? []) {
    const op = SELECTOR_OPERATORS[e.operator]
    if (!op) throw new Error(`"${e.operator}" is not a valid label selector operator`)
    reqs.push(labelRequirement(e.key, op, e.values ?? []))
  }
  return reqs
}

/**
 * Where the archive is: `--database-url`/DATABASE_URL (which also turns archiving on, unless the configmap says
 * `archive: false`), else the configmap's `persistence.postgresql` with credentials from its Secrets in the
 * install namespace. Undefined: no persistence, the archive endpoints answer as upstream's null archive.
 */
export async function resolvePersistence(opts: {
  databaseUrl: string
  /** the configmap's block, parsed with the rest of it at start (config/configmap.ts) */
  settings: PersistenceSettings | undefined
  kube: KubeClient
  namespace: string
  archiveTtl: string
  skipMigrations: boolean
  log: (msg: string) => void
}): Promise<Persistence | undefined> {
  const p = opts.settings ?? PersistenceSettings.parse({})
  let url = opts.databaseUrl
  if (!url && p.postgresql) url = await postgresUrl(p.postgresql, opts.kube, opts.namespace, opts.log)
  if (!url) {
    if (p.mysql) opts.log('persistence: mysql is not supported by this server; the archive is disabled')
    return undefined
  }
  return {
    url: await withLibpqSslModes(url).catch((err: Error) => {
      throw new Error(`${opts.databaseUrl ? 'database URL' : 'persistence: postgresql'}: ${err.message}`)
    }),
    ...archivingOf(p, opts, 'configmap: '),
    clusterName: p.clusterName || 'default',
    offloadTable: p.postgresql?.tableName || 'argo_workflows',
    skipMigrations: opts.skipMigrations || p.skipMigration === true,
  }
}

/** What of `persistence` this server follows while running, as upstream's controller re-reads its configmap. */
export interface ArchivingSettings {
  archive: boolean
  selector: Requirement[]
  ttlSeconds: number
}

/** @throws Error naming the key whose value is wrong, after `source` (`configmap: ` at start) for the configmap's */
function archivingOf(p: PersistenceSettings, opts: { databaseUrl: string; archiveTtl: string }, source = ''): ArchivingSettings {
  const named = <T>(key: string, read: () => T): T => {
    try {
      return read()
    } catch (err) {
      throw new Error(`${key}: ${(err as Error).message}`)
    }
  }
  return {
    archive: p.archive ?? Boolean(opts.databaseUrl),
    selector: named(`${source}persistence.archiveLabelSelector`, () => selectorOf(p.archiveLabelSelector)),
    ttlSeconds: opts.archiveTtl
      ? named('--archive-ttl', () => ttlSeconds(opts.archiveTtl))
      : named(`${source}persistence.archiveTTL`, () => ttlSeconds(p.archiveTTL ?? '')),
  }
}

/**
 * The archiving settings of a changed configmap's `persistence`, and where the archive is (the postgresql block,
 * clusterName) as a string to compare: that part is read at start only.
 * @throws Error when the block does not parse
 */
export function archivingSettings(settings: unknown, opts: { databaseUrl: string; archiveTtl: string }): ArchivingSettings & { where: string } {
  const parsed = PersistenceSettings.safeParse(settings ?? {})
  if (!parsed.success) throw new Error(persistenceIssue(parsed.error))
  const p = parsed.data
  return { ...archivingOf(p, opts), where: JSON.stringify([p.postgresql ?? null, p.clusterName ?? null]) }
}

async function postgresUrl(pgs: NonNullable<PersistenceSettings['postgresql']>, kube: KubeClient, namespace: string, log: (msg: string) => void): Promise<string> {
  const secret = async (ref: z.infer<typeof SecretKey> | undefined) => {
    if (!ref) return ''
    const data = await kube.getSecret(namespace, ref.name)
    if (!data) throw new Error(`persistence: secret ${namespace}/${ref.name} not found`)
    const v = data[ref.key]
    if (v === undefined) throw new Error(`persistence: secret ${namespace}/${ref.name} has no key "${ref.key}"`)
    return v.toString('utf8')
  }
  const user = encodeURIComponent(await secret(pgs.userNameSecret))
  const password = encodeURIComponent(await secret(pgs.passwordSecret))
  const auth = user ? `${user}${password ? `:${password}` : ''}@` : ''
  // Upstream passes sslMode only with `ssl: true` (util/sqldb createPostGresDBSessionWithCreds): without it, none.
  if (!pgs.ssl && pgs.sslMode && pgs.sslMode !== 'disable') log(`persistence: postgresql.sslMode "${pgs.sslMode}" is ignored without ssl: true (as upstream): connecting without TLS`)
  const mode = pgs.ssl ? pgs.sslMode || 'require' : 'disable'
  if (!SSL_MODES.has(mode)) throw new Error(`persistence: postgresql.sslMode "${mode}" is not one of ${[...SSL_MODES].join(', ')}`)
  // libpq's meanings (a bare `ssl: true` is require: encrypted, the certificate not verified): see withLibpqSslModes
  return `postgres://${auth}${pgs.host ?? 'localhost'}:${pgs.port ?? 5432}/${encodeURIComponent(pgs.database ?? 'postgres')}?sslmode=${mode}`
}
