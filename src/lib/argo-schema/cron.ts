// CronWorkflow checks (upstream ValidateCronWorkflow). Schedules are parsed the
// way robfig/cron/v3's ParseStandard does, and its error texts are reused.
import { parseGoDuration } from '../go-values.js'
import { arr, join, str, type Problems, type Rec } from './util.js'

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])
const CONCURRENCY_POLICIES = new Set(['Allow', 'Forbid', 'Replace'])

interface Bounds {
  min: number
  max: number
  names?: string[]
}

const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
]

export function isValidTimeZone(tz: string): boolean {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return true
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

function parseInt10(s: string): number {
  if (!/^[-+]?\d+$/.test(s)) throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`)
  const n = Number(s)
  if (n < 0) throw new Error(`negative number (${n}) not allowed: ${s}`)
  return n
}

function parseIntOrName(s: string, b: Bounds): number {
  const named = b.names?.indexOf(s.toLowerCase()) ?? -1
  // Month names start at 1, weekday names at 0.
  if (named >= 0) return named + b.min
  return parseInt10(s)
}

function checkRange(expr: string, b: Bounds): void {
  const rangeAndStep = expr.split('/')
  const lowAndHigh = (rangeAndStep[0] as string).split('-')
  const first = lowAndHigh[0] as string
  let start: number
  let end: number
  if (first === '*' || first === '?') {
    start = b.min
    end = b.max
  } else {
    start = parseIntOrName(first, b)
    if (lowAndHigh.length === 1) end = start
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] as string, b)
    else throw new Error(`too many hyphens: ${expr}`)
  }
  let step = 1
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1] as string)
    if (lowAndHigh.length === 1) end = b.max
  } else if (rangeAndStep.length > 2) {
    throw new Error(`too many slashes: ${expr}`)
  }
  if (start < b.min) throw new Error(`beginning of range (${start}) below minimum (${b.min}): ${expr}`)
  if (end > b.max) throw new Error(`end of range (${end}) above maximum (${b.max}): ${expr}`)
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`)
  if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`)
}

/** Returns robfig/cron's error text for an invalid standard spec, or undefined when valid. */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule.trim()
  try {
    if (spec === '') throw new Error('empty spec string')
    if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
      const space = spec.indexOf(' ')
      const tz = spec.slice(spec.indexOf('=') + 1, space < 0 ? undefined : space)
      if (!isValidTimeZone(tz)) throw new Error(`provided bad location ${tz}: unknown time zone ${tz}`)
      spec = space < 0 ? '' : spec.slice(space).trim()
    }
    if (spec.startsWith('@every ')) {
      const d = spec.slice('@every '.length)
      if (parseGoDuration(d) === undefined) throw new Error(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(d)}`)
      return undefined
    }
    if (spec.startsWith('@')) {
      if (!DESCRIPTORS.has(spec)) throw new Error(`unrecognized descriptor: ${spec}`)
      return undefined
    }
    const fields = spec.split(/\s+/).filter((f) => f !== '')
    if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`)
    fields.forEach((field, i) => {
      for (const expr of field.split(',')) checkRange(expr, FIELDS[i] as Bounds)
    })
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

export function checkCronSpec(spec: Rec, p: Problems): void {
  const schedules: { path: string; value: string }[] = []
  const single = str(spec.schedule)
  if (single) schedules.push({ path: 'spec.schedule', value: single })
  arr(spec.schedules)?.forEach((s, i) => {
    if (typeof s === 'string') schedules.push({ path: join('spec.schedules', i), value: s })
  })
  if (schedules.length === 0 && !arr(spec.schedules)?.length && spec.schedule === undefined) {
    p.add('spec.schedules', 'is required: a cron workflow needs spec.schedule or spec.schedules')
  }
  for (const { path, value } of schedules) {
    const err = cronScheduleError(value)
    if (err) p.add(path, `cron schedule ${value} is malformed: ${err}`)
  }
  const tz = str(spec.timezone)
  if (tz !== undefined && !isValidTimeZone(tz)) p.add('spec.timezone', `provided bad location ${tz}: unknown time zone ${tz}`)
  const policy = str(spec.concurrencyPolicy)
  if (policy && !CONCURRENCY_POLICIES.has(policy)) {
    p.add('spec.concurrencyPolicy', `'${policy}' is not a valid concurrencyPolicy`)
  }
  const deadline = spec.startingDeadlineSeconds
  if (typeof deadline === 'number' && deadline < 0) p.add('spec.startingDeadlineSeconds', 'startingDeadlineSeconds must be positive')
}
