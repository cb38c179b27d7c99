import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { parseGoBool } from '../lib/go-values.js'
import { ApiError } from './errors.js'

/** A boolean query value, parsed as Go's strconv.ParseBool (spec §2.1: `1`, `t`, `true`, …). */
export const goBool = z.string().transform((v, ctx) => {
  const b = parseGoBool(v)
  if (b === undefined) ctx.addIssue({ code: 'custom', message: `invalid boolean value "${v}"` })
  return b ?? false
})

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n }
const isInteger = (v: string) => /^[+-]?\d+$/.test(v)

/** An int64 query value; `abc`, or one out of int64's range, is a 400 (upstream: the same, strconv.ParseInt). */
export const int64 = z.string().regex(/^[+-]?\d+$/, 'must be an integer')
  // zod runs this even after the pattern failed: only integers are range-checked (BigInt throws on others).
  .refine((v) => !isInteger(v) || (BigInt(v) >= INT64.min && BigInt(v) <= INT64.max), 'value out of range for int64')
  .transform(Number)

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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/

/** Times Kubernetes, Postgres and a Date all hold: years 1 to 9999, in ms since the epoch. */
export const TIME_RANGE = { min: -62135596800000, max: 253402300799999 }

/** Days in a month (1–12) of a year, Gregorian. */
function daysIn(year: number, month: number): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month, 0) // day 0 of the next month is the last of this one
  return d.getUTCDate()
}

/**
 * Reads an RFC 3339 time as Go's time.Parse does: a zone is required (without one, Date.parse read the server's
 * local time) and the date must exist (2026-02-29 is refused, not rolled over to March 1). A bad one is a 400
 * (upstream: 500, a quirk not worth keeping); so is year 0, which Go reads but Postgres does not have.
 */
export function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined
  const m = RFC3339.exec(v)
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, zh = 0, zm = 0] = (m?.slice(1) ?? []).map((x) => Number(x ?? 0))
  const t = Date.parse(v)
  const valid = m !== null && y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && h <= 23 && mi <= 59 && sec <= 59
    && zh <= 23 && zm <= 59 && t >= TIME_RANGE.min && t <= TIME_RANGE.max
  if (!valid) throw ApiError.invalidArgument(`${name}: invalid RFC 3339 time "${v}"`)
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
