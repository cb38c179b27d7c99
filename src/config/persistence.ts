import { z } from 'zod'

export const SecretKey = z.strictObject({ name: z.string(), key: z.string(), optional: z.boolean().optional() })

/** A port: Go's int; a string of digits is taken too (YAML authors quote numbers). */
const PORT = 'expected a port (1-65535)'
const Port = z.union([z.number(), z.string()], { error: PORT }).transform((v, ctx) => {
  const port = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : NaN
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return port
  ctx.addIssue({ code: 'custom', message: PORT })
  return z.NEVER
})

/**
 * The configmap's `persistence` block (spec §7.3): every key of upstream's PersistConfig, and no other. Upstream
 * parses the configmap strictly (UnmarshalStrict), so a misspelt key is an error there too, not silently nothing
 * (an `archiveTtl` that never deletes a row). `mysql`, which this server does not support, is not looked into.
 */
export const PersistenceSettings = z.strictObject({
  archive: z.boolean().optional(),
  archiveTTL: z.string().optional(),
  clusterName: z.string().optional(),
  skipMigration: z.boolean().optional(),
  nodeStatusOffLoad: z.boolean().optional(),
  connectionPool: z.strictObject({
    maxIdleConns: z.number().int().optional(),
    maxOpenConns: z.number().int().optional(),
    connMaxLifetime: z.string().optional(),
  }).optional(),
  archiveLabelSelector: z.strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(z.strictObject({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
  }).optional(),
  postgresql: z.strictObject({
    host: z.string().optional(),
    port: Port.optional(),
    database: z.string().optional(),
    tableName: z.string().optional(),
    userNameSecret: SecretKey.optional(),
    passwordSecret: SecretKey.optional(),
    ssl: z.boolean().optional(),
    sslMode: z.string().optional(),
    azureToken: z.unknown().optional(),
    awsRDSToken: z.unknown().optional(),
  }).optional(),
  mysql: z.unknown().optional(),
})
export type PersistenceSettings = z.infer<typeof PersistenceSettings>

/** A parse failure as one line naming the key: `persistence.postgresql.port: expected a port (1-65535)`. */
export function persistenceIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'persistence: invalid'
  return `${['persistence', ...issue.path.map(String)].join('.')}: ${issue.message}`
}
