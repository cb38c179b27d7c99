import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { RE2JS } from 're2js'
import { ApiError } from '../http/errors.js'

/** A compiled `grep` filter: which of a batch of log lines' contents match, anywhere in each. */
export type LineFilter = (contents: string[]) => Promise<boolean[]>

/** Longest pattern accepted: RE2 compiles to an automaton whose size grows with the pattern, so cap that too. */
const MAX_PATTERN = 1024

/**
 * The matching runs on a worker thread. RE2 is linear in the line, but with a factor of the pattern's program
 * size: re2js takes seconds per 100 KB for `\w{1000}\d`, and on the event loop that froze every request of the
 * server (upstream's Go matcher costs as much, but blocks only its own goroutine). One worker, shared: a costly
 * pattern delays other greps, never the server. Compiled patterns are kept per pattern text.
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

interface Pending { resolve(m: boolean[]): void; reject(e: Error): void }
let worker: Worker | undefined
let nextId = 0
const pending = new Map<number, Pending>()

function matcher(): Worker {
  if (worker) return worker
  const w = new Worker(WORKER, { eval: true, workerData: { re2js: createRequire(import.meta.url).resolve('re2js') } })
  w.on('message', (m: { id: number; matches: boolean[] }) => {
    pending.get(m.id)?.resolve(m.matches)
    pending.delete(m.id)
  })
  const lost = (err: Error) => {
    worker = undefined
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  w.on('error', lost)
  w.on('exit', () => lost(new Error('grep: the matcher thread exited')))
  // After the listeners: adding a 'message' listener refs the worker again. The server's sockets keep it alive.
  w.unref()
  worker = w
  return w
}

/**
 * Compiles `grep` with re2js, a pure-JS port of RE2 — the engine upstream uses (Go's regexp, spec §2.8), so the
 * syntax and the "error parsing regexp: …" messages match, and matching is linear in the line's length: a pattern
 * like `(a+)+$` cannot backtrack catastrophically as a JavaScript RegExp would. Deviation: an invalid pattern is
 * 400 before the stream opens (upstream ends the stream with 500).
 */
export function compileGrep(pattern: string | undefined): LineFilter | undefined {
  if (!pattern) return undefined
  if (pattern.length > MAX_PATTERN) throw ApiError.invalidArgument(`grep: pattern longer than ${MAX_PATTERN} characters`)
  try {
    RE2JS.compile(pattern)
  } catch (err) {
    throw ApiError.invalidArgument(`grep: ${(err as Error).message}`)
  }
  return (lines) => new Promise<boolean[]>((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    matcher().postMessage({ id, pattern, lines })
  })
}
