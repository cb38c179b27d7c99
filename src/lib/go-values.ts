// Values written as Go's standard library reads them: upstream's flags, configmap and query parameters use these.

/** strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  return undefined
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }

/** time.ParseDuration (`10h`, `1h30m`, `-90s`, `1.5h`), in milliseconds; undefined when malformed. */
export function parseGoDuration(v: string): number | undefined {
  const sign = v.startsWith('-') ? -1 : 1
  const s = v.startsWith('-') || v.startsWith('+') ? v.slice(1) : v
  if (s === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy
  let total = 0
  let matched = 0
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    matched = re.lastIndex
  }
  return matched === s.length && s.length > 0 ? sign * total : undefined
}

/** Upstream's TTL (config/ttl.go): `Nd`, or a Go duration such as `12h` or `1h30m`; '' or '0': none. In seconds. */
export function parseTtlSeconds(v: string): number | undefined {
  const s = v.trim()
  if (!s || s === '0') return 0
  const days = /^(\d+)d$/.exec(s)
  if (days) return Number(days[1]) * 86_400
  const ms = s.startsWith('-') ? undefined : parseGoDuration(s)
  return ms === undefined ? undefined : ms / 1000
}
