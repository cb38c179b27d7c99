import { z } from 'zod'
import { parseGoDuration } from '../lib/go-values.js'

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
