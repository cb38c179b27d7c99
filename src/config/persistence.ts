import { z } from 'zod'

export const SecretKey = z.object({ name: z.string(), key: z.string() })

/** The configmap's `persistence` block (spec §7.3), as far as this server uses it; unknown keys are ignored. */
export const PersistenceSettings = z.looseObject({
  archive: z.boolean().optional(),
  archiveTTL: z.string().optional(),
  clusterName: z.string().optional(),
  skipMigration: z.boolean().optional(),
  archiveLabelSelector: z.object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
  }).optional(),
  postgresql: z.looseObject({
    host: z.string().optional(),
    port: z.union([z.number(), z.string()]).optional(),
    database: z.string().optional(),
    tableName: z.string().optional(),
    userNameSecret: SecretKey.optional(),
    passwordSecret: SecretKey.optional(),
    ssl: z.boolean().optional(),
    sslMode: z.string().optional(),
  }).optional(),
  mysql: z.unknown().optional(),
})
export type PersistenceSettings = z.infer<typeof PersistenceSettings>
