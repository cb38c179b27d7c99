import yaml from 'js-yaml'
import { z } from 'zod'
import { PersistenceSettings } from './persistence.js'
import { SsoSettings } from './sso.js'

/** The workflow-controller configmap keys this server reads at start (spec §7.3); archiving follows changes. */
export const Link = z.object({ name: z.string(), scope: z.string(), url: z.string(), target: z.string().optional() })
export const Column = z.object({ name: z.string(), type: z.enum(['label', 'annotation']), key: z.string() })

export const ClusterSettings = z.looseObject({
  instanceID: z.string().default(''),
  links: z.array(Link).default([]),
  columns: z.array(Column).default([]),
  navColor: z.string().default(''),
  sso: SsoSettings.optional(),
  persistence: PersistenceSettings.optional(),
})
export type ClusterSettings = z.infer<typeof ClusterSettings>

/**
 * Parses the configmap's data: one `config` key holding YAML, or one key per top-level field, each YAML.
 * Deviation: upstream rejects unknown keys (UnmarshalStrict); the server reads only a few, so others are ignored.
 * @throws Error naming the bad key
 */
export function parseClusterSettings(data: Record<string, string> | undefined, allowedLinkProtocols: readonly string[]): ClusterSettings {
  const parsed = ClusterSettings.safeParse(rawSettings(data))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new Error(`configmap: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
  }
  for (const link of parsed.data.links) {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(link.url)?.[1]?.toLowerCase()
    if (!scheme || !allowedLinkProtocols.includes(scheme)) {
      throw new Error(`configmap: link "${link.name}" has a disallowed protocol in "${link.url}" (allowed: ${allowedLinkProtocols.join(', ')})`)
    }
  }
  return parsed.data
}

/** The configmap's data as YAML values, from one `config` key or one key per field. @throws Error on bad YAML */
export function rawSettings(data: Record<string, string> | undefined): Record<string, unknown> {
  let raw: Record<string, unknown> = {}
  if (data?.config !== undefined) {
    const doc = yaml.load(data.config)
    if (doc !== null && doc !== undefined && typeof doc !== 'object') throw new Error('configmap key "config" is not a YAML mapping')
    raw = (doc ?? {}) as Record<string, unknown>
  } else if (data) {
    for (const [k, v] of Object.entries(data)) raw[k] = yaml.load(v)
  }
  return raw
}
