/**
 * A pino JSON log line as logrus's text formatter writes it, upstream's default `--log-format text`:
 * `time="2026-01-02T15:04:05Z" level=info msg="listening" key=value`. Keys after `msg` are sorted, as logrus sorts
 * them; a value is quoted (Go's %q) unless it is made only of characters logrus leaves bare.
 */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' }
/** pino's own fields, written first or not at all */
const OWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v'])

const bare = /^[A-Za-z0-9\-._/@^+]+$/

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)
  return bare.test(s) ? s : JSON.stringify(s)
}

export function logrusText(line: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().replace(/\.\d{3}Z$/, 'Z') : ''
  const parts = [`time=${JSON.stringify(time)}`, `level=${LEVELS[Number(rec.level)] ?? String(rec.level)}`, `msg=${JSON.stringify(String(rec.msg ?? ''))}`]
  for (const key of Object.keys(rec).filter((k) => !OWN.has(k)).sort()) parts.push(`${key}=${value(rec[key])}`)
  return `${parts.join(' ')}\n`
}
