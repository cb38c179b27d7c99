import { z } from 'zod'
import { parseGoBool, parseTtlSeconds } from '../lib/go-values.js'


const goBool = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v
  const b = parseGoBool(v)
  if (b === undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid boolean "${v}"` })
    return z.NEVER
  }
  return b
})

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

export const AuthMode = z.enum(['client', 'server', 'sso', 'hybrid'])
export type AuthMode = z.infer<typeof AuthMode>

/**
 * Every flag the server takes (upstream's `argo server` flags, spec §7.1, plus ours).
 * `desc` feeds `--help` and the README's configuration table.
 */
export const flagDefs = {
  port: { short: 'p', kind: 'value', desc: 'Port to listen on', def: '2746', schema: int(0, 65535) },
  host: { kind: 'value', desc: 'Address to bind (ours; upstream binds every interface). The sandbox binds 127.0.0.1', def: '', schema: z.string() },
  secure: { short: 'e', kind: 'bool', desc: 'Serve TLS; without a certificate a self-signed one is generated per process', def: 'true', schema: goBool },
  'tls-certificate-secret-name': { kind: 'value', desc: 'Secret (in --namespace) holding tls.crt and tls.key', def: '', schema: z.string() },
  'auth-mode': { kind: 'list', desc: 'Repeatable: client, server, sso, hybrid (= client + server)', def: 'client', schema: z.array(AuthMode).min(1) },
  namespaced: { kind: 'bool', desc: 'Run as a namespaced server (only the managed namespace)', def: 'false', schema: goBool },
  'managed-namespace': { kind: 'value', desc: 'Namespace the server manages when --namespaced (default: --namespace)', def: '', schema: z.string() },
  namespace: { kind: 'value', desc: 'Install namespace (holds the configmap and the sso Secret)', def: 'argo', schema: z.string().min(1) },
  configmap: { kind: 'value', desc: 'Name of the workflow-controller configmap, read at start (archiving follows its changes)', def: 'workflow-controller-configmap', schema: z.string() },
  'base-href': { kind: 'value', desc: 'Base path of the UI and of SSO cookies', def: '/', schema: z.string().regex(/^\//, 'must start with /') },
  kubeconfig: { kind: 'value', desc: 'Kubeconfig file (else KUBECONFIG, ~/.kube/config or in-cluster, like kubectl)', def: '', schema: z.string() },
  'database-url': { kind: 'value', desc: 'PostgreSQL URL for the archive (or DATABASE_URL)', def: '', schema: z.string() },
  sandbox: { kind: 'bool', desc: 'Start a local sandbox: Kubernetes API emulator, embedded Postgres and a simulated runner', def: 'false', schema: goBool },
  'sandbox-dir': { kind: 'value', desc: 'Where the sandbox keeps its data', def: '.sandbox', schema: z.string().min(1) },
  hsts: { kind: 'bool', desc: 'Send Strict-Transport-Security on UI responses when secure', def: 'true', schema: goBool },
  'x-frame-options': { kind: 'value', desc: 'X-Frame-Options on UI responses', def: 'DENY', schema: z.string() },
  'access-control-allow-origin': { kind: 'value', desc: 'CORS origin for UI responses (never /api, as upstream)', def: '', schema: z.string() },
  'api-rate-limit': { kind: 'value', desc: 'Requests per second per client IP (0: no limit, ours)', def: '1000', schema: int(0, 1e9) },
  'allowed-link-protocol': { kind: 'list', desc: 'Allowed schemes of configmap links', def: 'http,https', schema: z.array(z.string()) },
  'kube-api-qps': { kind: 'value', desc: 'Kubernetes client QPS (accepted for compatibility)', def: '20', schema: z.coerce.number() },
  'kube-api-burst': { kind: 'value', desc: 'Kubernetes client burst (accepted for compatibility)', def: '30', schema: z.coerce.number() },
  'log-format': { kind: 'value', desc: 'text or json', def: 'text', schema: z.enum(['text', 'json']) },
  'log-grep-budget-seconds': { kind: 'value', desc: 'Matching time a log stream\'s grep may use at once (regained at a tenth of the time streamed) before the stream ends with ResourceExhausted (ours)', def: '30', schema: z.coerce.number().positive() },
  loglevel: { kind: 'value', desc: 'debug, info, warn or error', def: 'info', schema: z.enum(['debug', 'info', 'warn', 'error']) },
  'sse-heartbeat-seconds': { kind: 'value', desc: 'Interval of the SSE keep-alive comment (ours; upstream 15 s fixed)', def: '15', schema: z.coerce.number().positive() },
  'stream-buffer-bytes': { kind: 'value', desc: 'How far a stream client may fall behind before it is closed with a stream error', def: String(8 * 1024 * 1024), schema: int(1024, 2 ** 31) },
  'watch-history-bytes': { kind: 'value', desc: 'Bytes of recent workflow events kept so reconnecting clients resume without a gap', def: String(64 * 1024 * 1024), schema: int(0, 2 ** 40) },
  'watch-outage-seconds': { kind: 'value', desc: 'How long the Kubernetes watch may fail before streams end with an error', def: '30', schema: z.coerce.number().positive() },
  'skip-migrations': { kind: 'bool', desc: 'Do not migrate the archive database at start (also configmap persistence.skipMigration)', def: 'false', schema: goBool },
  'archive-ttl': { kind: 'value', desc: 'Delete archived workflows finished longer ago than this (Nd, Nh, Nm, Ns or a Go duration); default: configmap persistence.archiveTTL', def: '', schema: z.string().refine((v) => parseTtlSeconds(v) !== undefined, 'must be a duration such as 7d, 12h or 1h30m') },
  'archive-gc-period': { kind: 'value', desc: 'Seconds between deletions of expired archived workflows (upstream ARCHIVED_WORKFLOW_GC_PERIOD; here also once at start)', def: '3600', schema: z.coerce.number().positive() },
  'archive-hold-unfinished': { kind: 'bool', desc: 'Hold unfinished workflows for the archive with a finalizer (ours), so one that finishes and is deleted while no server runs waits for its row; deletions then wait while no server runs', def: 'true', schema: goBool },
  'archive-lease-seconds': { kind: 'value', desc: 'Lease duration of the single archiving replica; another takes over this long after it dies', def: '15', schema: z.coerce.number().positive() },
  'max-wait-seconds': { kind: 'value', desc: 'Longest wait of Prefer: wait=N on create/submit and of GET …/{name}/wait (ours): under the common 60 s proxy idle cut-off; past it the answer is 202 with the current state', def: '55', schema: int(0, 86_400) },
  'idempotency-window-seconds': { kind: 'value', desc: 'How long an Idempotency-Key on create/submit replays its workflow (ours); the record is the workflow itself, live or archived', def: '86400', schema: int(1, 2 ** 31) },
  'request-body-limit': { kind: 'value', desc: 'Largest request body in bytes (upstream GRPC_MESSAGE_SIZE)', def: String(100 * 1024 * 1024), schema: int(1024, 2 ** 31) },
} as const

export type FlagName = keyof typeof flagDefs

type Schemas = { [K in FlagName]: (typeof flagDefs)[K]['schema'] }
type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S
export type Flags = { [K in FlagName as CamelCase<K>]: z.output<Schemas[K]> }

export interface Config extends Flags {
  /** the auth modes in force, hybrid expanded */
  modes: ReadonlySet<'client' | 'server' | 'sso'>
  /** flags and env variables the user set explicitly (the sandbox only changes defaults) */
  explicit: ReadonlySet<FlagName>
  /** environment values the server reads (only config/ reads process.env) */
  env: {
    kubeconfigEnv: string
    inCluster: boolean
    feedbackModal: boolean
    firstTimeUserModal: boolean
    newVersionModal: boolean
    wfDelPropagationPolicy: string
    /** DISABLE_VALUE_LIST_RETRIEVAL_KEY_PATTERN: label keys whose archived values are not listed (spec §6.4) */
    disableValueListRetrievalKeyPattern: string
    /** SSO_DELEGATE_RBAC_TO_NAMESPACE (spec §5.4) */
    ssoDelegateRbacToNamespace: boolean
    /** IP_KEY_FUNC_HEADERS: headers naming the client for the rate limit, e.g. X-Forwarded-For (spec §7.4) */
    ipKeyFuncHeaders: string[]
    home: string
  }
}
