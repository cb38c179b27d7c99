import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { parseGoBool } from '../config/schema.js'
import { ApiError } from './errors.js'

/** A boolean query value, parsed as Go's strconv.ParseBool (spec §2.1: `1`, `t`, `true`, …). */
export const goBool = z.string().transform((v, ctx) => {
  const b = parseGoBool(v)
  if (b === undefined) ctx.addIssue({ code: 'custom', message: `invalid boolean value "${v}"` })
  return b ?? false
})

/** An int64 query value; `abc` is a 400 (upstream: the same). */
export const int64 = z.string().regex(/^[+-]?\d+$/, 'must be an integer').transform(Number)

/** Upstream's `listOptions.*` query keys (swagger: every ListOptions field). */
export const listOptionsQuery = {
  'listOptions.labelSelector': z.string().optional(),
  'listOptions.fieldSelector': z.string().optional(),
  'listOptions.watch': goBool.optional(),
  'listOptions.allowWatchBookmarks': goBool.optional(),
  'listOptions.resourceVersion': z.string().optional(),
  'listOptions.resourceVersionMatch': z.string().optional(),
  'listOptions.timeoutSeconds': int64.optional(),
  'listOptions.limit': int64.optional(),
  'listOptions.continue': z.string().optional(),
  'listOptions.sendInitialEvents': goBool.optional(),
}

/** Upstream's `deleteOptions.*` query keys: accepted and, as upstream, ignored for workflows. */
export const deleteOptionsQuery = {
  'deleteOptions.gracePeriodSeconds': int64.optional(),
  'deleteOptions.preconditions.uid': z.string().optional(),
  'deleteOptions.preconditions.resourceVersion': z.string().optional(),
  'deleteOptions.orphanDependents': goBool.optional(),
  'deleteOptions.propagationPolicy': z.string().optional(),
  'deleteOptions.dryRun': z.union([z.string(), z.array(z.string())]).optional(),
  'deleteOptions.ignoreStoreReadErrorWithClusterBreakingPotential': goBool.optional(),
}

export const getOptionsQuery = {
  'getOptions.resourceVersion': z.string().optional(),
}

/** `/api/v1/workflows/{namespace}`: the namespace may be '' (all namespaces, spec §2.1). */
export const NamespaceParams = z.object({ namespace: z.string().default('') })
export const NamespaceNameParams = z.object({ namespace: z.string(), name: z.string() })

/** Reads an RFC 3339 time; a bad one is a 400 (upstream: 500, a quirk not worth keeping). */
export function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined
  const t = Date.parse(v)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) {
    throw ApiError.invalidArgument(`${name}: invalid RFC 3339 time "${v}"`)
  }
  return t
}

/**
 * A URL holding NUL (`%00`) is a 400 before any route: no Kubernetes name, selector or label can hold one, and
 * Postgres refuses it in a text parameter (the archive's reads answered 500 for it).
 */
export function installUrlGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    if (req.url.includes('%00')) throw ApiError.invalidArgument('the URL holds a NUL character (%00)')
  })
}
