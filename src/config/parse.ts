import { z } from 'zod'
import { parseGoBool } from '../lib/go-values.js'
import { flagDefs, type Config, type FlagName, type Flags } from './schema.js'

/** A bad flag or variable: main prints the message on one line and exits with code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
const envName = (flag: string) => `ARGO_${flag.toUpperCase().replace(/-/g, '_')}`
const byShort = new Map<string, string>(Object.entries(flagDefs).flatMap(([k, d]) => ('short' in d ? [[d.short, k]] : [])))

function isFlag(name: string): name is FlagName {
  return Object.hasOwn(flagDefs, name)
}

/** Reads argv the way Go's pflag does: `--f=v`, `--f v`, `--bool`, `--bool=false`, `-p 2746`. */
function readArgs(argv: readonly string[]): Map<FlagName, string[]> {
  const out = new Map<FlagName, string[]>()
  const push = (k: FlagName, v: string) => out.set(k, [...(out.get(k) ?? []), v])
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') throw new ConfigError('help')
    const m = /^(--?)([^=]+)(?:=(.*))?$/s.exec(arg)
    if (!m) throw new ConfigError(`unexpected argument "${arg}"`)
    const name = m[1] === '-' ? byShort.get(m[2] as string) : m[2]
    if (!name || !isFlag(name)) throw new ConfigError(`unknown flag: ${arg}`)
    const def = flagDefs[name]
    if (m[3] !== undefined) push(name, m[3])
    else if (def.kind === 'bool') push(name, 'true')
    else {
      const next = argv[++i]
      if (next === undefined) throw new ConfigError(`flag needs an argument: ${arg}`)
      push(name, next)
    }
  }
  return out
}

function splitList(v: string): string[] {
  return v.split(/[\s,]+/).filter(Boolean)
}

/**
 * Parses flags and ARGO_* variables once (defaults < env < flags) into a frozen Config.
 * @throws ConfigError naming the first bad value.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const args = readArgs(argv)
  const explicit = new Set<FlagName>()
  const raw: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(flagDefs) as [FlagName, (typeof flagDefs)[FlagName]][]) {
    const fromArgs = args.get(name)
    const fromEnv = env[envName(name)]
    let value: unknown
    if (fromArgs) {
      explicit.add(name)
      value = def.kind === 'list' ? fromArgs.flatMap(splitList) : fromArgs[fromArgs.length - 1]
    } else if (fromEnv !== undefined && fromEnv !== '') {
      explicit.add(name)
      value = def.kind === 'list' ? splitList(fromEnv) : fromEnv
    } else {
      value = def.kind === 'list' ? splitList(def.def) : def.def
    }
    const parsed = (def.schema as z.ZodType).safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new ConfigError(`invalid value "${String(value)}" for flag --${name}: ${issue?.message ?? 'invalid'}`)
    }
    raw[camel(name)] = parsed.data
  }
  const flags = raw as Flags
  if (env.DATABASE_URL && !explicit.has('database-url')) flags.databaseUrl = env.DATABASE_URL
  const modes = new Set<'client' | 'server' | 'sso'>()
  for (const m of flags.authMode) {
    if (m === 'hybrid') { modes.add('client'); modes.add('server') } else modes.add(m)
  }
  const modal = (v: string | undefined) => parseGoBool(v ?? 'true') !== false
  return Object.freeze({
    ...flags,
    modes,
    explicit,
    env: {
      kubeconfigEnv: env.KUBECONFIG ?? '',
      inCluster: Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT),
      feedbackModal: modal(env.FEEDBACK_MODAL),
      firstTimeUserModal: modal(env.FIRST_TIME_USER_MODAL),
      newVersionModal: modal(env.NEW_VERSION_MODAL),
      wfDelPropagationPolicy: env.WF_DEL_PROPAGATION_POLICY || 'Background',
      disableValueListRetrievalKeyPattern: env.DISABLE_VALUE_LIST_RETRIEVAL_KEY_PATTERN ?? '',
      ssoDelegateRbacToNamespace: parseGoBool(env.SSO_DELEGATE_RBAC_TO_NAMESPACE ?? 'false') === true,
      ipKeyFuncHeaders: (env.IP_KEY_FUNC_HEADERS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
      home: env.HOME ?? '',
    },
  })
}

/** `--help` text, from the same definitions. */
export function helpText(): string {
  const lines = Object.entries(flagDefs).map(([name, d]) => {
    const short = 'short' in d ? `-${d.short}, ` : '    '
    return `  ${short}--${name.padEnd(30)} ${d.desc} (default "${d.def}", env ${envName(name)})`
  })
  return ['Usage: argo-server [flags]', '', 'Flags:', ...lines].join('\n')
}

/** With the sandbox, defaults change (plain HTTP, server auth, loopback) unless set explicitly. */
export function withSandboxDefaults(config: Config): Config {
  const set = <K extends keyof Config>(k: K, flag: FlagName, v: Config[K]) => (config.explicit.has(flag) ? config[k] : v)
  const authMode = set('authMode', 'auth-mode', ['server'])
  const modes = config.explicit.has('auth-mode') ? config.modes : new Set<'client' | 'server' | 'sso'>(['server'])
  return Object.freeze({
    ...config,
    secure: set('secure', 'secure', false),
    host: set('host', 'host', '127.0.0.1'),
    authMode,
    modes,
  })
}
