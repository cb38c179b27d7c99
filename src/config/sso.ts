import { z } from 'zod'

const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }

/** Go's time.ParseDuration (`10h`, `1h30m`, `90s`, `1.5h`), in milliseconds; undefined when malformed. */
export function parseGoDuration(v: string): number | undefined {
  if (v === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let matched = 0
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * (units[m[2] as string] as number)
    matched = re.lastIndex
  }
  return matched === v.length && v.length > 0 ? total : undefined
}

const SecretKeyRef = z.object({ name: z.string().min(1), key: z.string().min(1) })

const duration = z.string().transform((v, ctx) => {
  const ms = parseGoDuration(v)
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `invalid duration "${v}"` })
    return z.NEVER
  }
  return ms
})

/**
 * The configmap's `sso` block (spec §5.3, upstream config/sso.go). Secret refs live in the install namespace.
 * Unknown keys are ignored, as for the rest of the configmap.
 */
export const SsoSettings = z.looseObject({
  issuer: z.string().url(),
  issuerAlias: z.string().default(''),
  clientId: SecretKeyRef,
  clientSecret: SecretKeyRef,
  redirectUrl: z.string().default(''),
  scopes: z.array(z.string()).nullish().transform((v) => v ?? []),
  /** milliseconds; upstream's default is 10h */
  sessionExpiry: duration.optional().transform((v) => v ?? 10 * 3600e3),
  rbac: z.object({ enabled: z.boolean().default(false) }).nullish().transform((v) => ({ enabled: v?.enabled ?? false })),
  customGroupClaimName: z.string().default(''),
  userInfoPath: z.string().default(''),
  insecureSkipVerify: z.boolean().default(false),
  rootCA: z.string().default(''),
  filterGroupsRegex: z.array(z.string()).nullish().transform((v, ctx) => {
    try {
      return (v ?? []).map((r) => new RegExp(r))
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `bad regex: ${(e as Error).message}` })
      return z.NEVER
    }
  }),
})
export type SsoSettings = z.output<typeof SsoSettings>
