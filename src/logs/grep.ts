import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { RE2JS } from 're2js'
import { ApiError, GrpcCode } from '../http/errors.js'

/**
 * A compiled `grep` filter: which of a batch of log lines' contents match, anywhere in each. `signal` (the stream
 * has ended) drops its batches not yet matched.
 */
export type LineFilter = (contents: string[], signal?: AbortSignal) => Promise<boolean[]>

/** Longest pattern accepted: RE2 compiles to an automaton whose size grows with the pattern, so cap that too. */
const MAX_PATTERN = 1024

/** Matching time one log stream's grep may use at once, unless the server is told otherwise. */
export const DEFAULT_GREP_BUDGET_MS = 30_000
/**
 * The budget is regained at a tenth of the time streamed: a follow stream grepping a chatty log for hours (a few
 * percent of a core) never runs out, one keeping the matcher busy does within about a budget's time.
 */
const REGAIN_PER_MS = 0.1

/**
 * The matching runs on a worker thread. RE2 is linear in the line, but with a factor of the pattern's program
 * size: re2js takes seconds per 100 KB for `\w{1000}\d`, and on the event loop that froze every request of the
 * server (upstream's Go matcher costs as much, but blocks only its own goroutine). One worker, shared, given one
 * batch at a time, the streams taking turns; each stream has a budget of matching time, and the batch that
 * exceeds it is stopped (the worker is replaced), so a costly pattern on a long log ends its own stream with
 * ResourceExhausted instead of holding up the greps of others for as long as it likes.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { RE2JS } = require(workerData.re2js)
const compiled = new Map()
parentPort.on('message', ({ id, pattern, lines }) => {
  let re = compiled.get(pattern)
  if (!re) {
    if (compiled.size >= 64) compiled.delete(compiled.keys().next().value)
    re = RE2JS.compile(pattern)
    compiled.set(pattern, re)
  }
  parentPort.postMessage({ id, matches: lines.map((l) => re.matcher(l).find()) })
})
`

/**
 * One stream's grep: its pattern, the matching time it may still use (`creditMs`, as of `at`), and whether its
 * stream's end is listened for (once: a follow stream sends thousands of batches).
 */
interface Owner { pattern: string; budgetMs: number; creditMs: number; at: number; listening: boolean }

/** The owner's credit now: what it had, plus what the time since has regained, up to the budget. */
function credit(o: Owner): number {
  const now = performance.now()
  o.creditMs = Math.min(o.budgetMs, o.creditMs + (now - o.at) * REGAIN_PER_MS)
  o.at = now
  return o.creditMs
}
interface Job { id: number; owner: Owner; lines: string[]; resolve(m: boolean[]): void; reject(e: Error): void }

let worker: Worker | undefined
let nextId = 0
/** the batches waiting, per stream; the Map's order is the turn order */
const queues = new Map<Owner, Job[]>()
let running: { job: Job; started: number; timer: NodeJS.Timeout } | undefined

const exhausted = (o: Owner) => new ApiError(GrpcCode.ResourceExhausted,
  `grep: matching this stream's log took more than its budget of ${o.budgetMs / 1000} s: narrow the pattern or the log (tailLines, sinceSeconds, podName)`)

function matcher(): Worker {
  if (worker) return worker
  const w = new Worker(WORKER, { eval: true, workerData: { re2js: createRequire(import.meta.url).resolve('re2js') } })
  w.on('message', (m: { id: number; matches: boolean[] }) => {
    if (!running || running.job.id !== m.id) return
    const { job, started, timer } = running
    clearTimeout(timer)
    running = undefined
    credit(job.owner)
    job.owner.creditMs -= performance.now() - started
    job.resolve(m.matches)
    dispatch()
  })
  const lost = (err: Error) => {
    if (worker !== w) return // replaced already (a batch over its budget)
    worker = undefined
    fail(err)
  }
  w.on('error', lost)
  w.on('exit', () => lost(new Error('grep: the matcher thread exited')))
  // After the listeners: adding a 'message' listener refs the worker again. The server's sockets keep it alive.
  w.unref()
  worker = w
  return w
}

/** Ends the running batch with `err`, then goes on with the next on a fresh worker. */
function fail(err: Error): void {
  if (!running) return
  clearTimeout(running.timer)
  const { job } = running
  running = undefined
  job.reject(err)
  dispatch()
}

/** Sends the next stream's next batch to the worker, unless one is being matched. */
function dispatch(): void {
  if (running) return
  const first = queues.entries().next()
  if (first.done) return
  const [owner, jobs] = first.value
  const job = jobs.shift() as Job
  queues.delete(owner)
  if (jobs.length) queues.set(owner, jobs) // to the back of the turn order
  const left = credit(owner)
  if (left <= 0) {
    job.reject(exhausted(owner))
    dispatch()
    return
  }
  const w = matcher()
  const timer = setTimeout(() => {
    // Over budget mid-batch: a worker cannot be interrupted, only replaced.
    worker = undefined
    void w.terminate()
    owner.creditMs = 0
    owner.at = performance.now()
    fail(exhausted(owner))
  }, left)
  timer.unref()
  running = { job, started: performance.now(), timer }
  w.postMessage({ id: job.id, pattern: owner.pattern, lines: job.lines })
}

/**
 * Compiles `grep` with re2js, a pure-JS port of RE2 — the engine upstream uses (Go's regexp, spec §2.8), so the
 * syntax and the "error parsing regexp: …" messages match, and matching is linear in the line's length: a pattern
 * like `(a+)+$` cannot backtrack catastrophically as a JavaScript RegExp would. Deviation: an invalid pattern is
 * 400 before the stream opens (upstream ends the stream with 500).
 * @param budgetMs matching time the stream may use at once, regained as it streams (ours: upstream has no bound)
 */
export function compileGrep(pattern: string | undefined, budgetMs = DEFAULT_GREP_BUDGET_MS): LineFilter | undefined {
  if (!pattern) return undefined
  if (pattern.length > MAX_PATTERN) throw ApiError.invalidArgument(`grep: pattern longer than ${MAX_PATTERN} characters`)
  try {
    RE2JS.compile(pattern)
  } catch (err) {
    throw ApiError.invalidArgument(`grep: ${(err as Error).message}`)
  }
  const owner: Owner = { pattern, budgetMs, creditMs: budgetMs, at: performance.now(), listening: false }
  return (lines, signal) => new Promise<boolean[]>((resolve, reject) => {
    if (credit(owner) <= 0) return reject(exhausted(owner))
    if (signal?.aborted) return reject(new Error('grep: the stream ended'))
    const job = { id: nextId++, owner, lines, resolve, reject }
    const mine = queues.get(owner)
    if (mine) mine.push(job)
    else queues.set(owner, [job])
    if (signal && !owner.listening) {
      owner.listening = true
      signal.addEventListener('abort', () => drop(owner), { once: true })
    }
    dispatch()
  })
}

/** A stream that ended: its batches still waiting are not matched. */
function drop(owner: Owner): void {
  const jobs = queues.get(owner)
  queues.delete(owner)
  for (const j of jobs ?? []) j.reject(new Error('grep: the stream ended'))
}
