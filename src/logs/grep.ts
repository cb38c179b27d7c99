import { RE2JS } from 're2js'
import { ApiError } from '../http/errors.js'

/** A compiled `grep` filter: matches anywhere in a log line's content. */
export type LineFilter = (content: string) => boolean

/** Longest pattern accepted: RE2 compiles to an automaton whose size grows with the pattern, so cap that too. */
const MAX_PATTERN = 1024

/**
 * Compiles `grep` with re2js, a pure-JS port of RE2 — the engine upstream uses (Go's regexp, spec §2.8), so the
 * syntax and the "error parsing regexp: …" messages match, and matching is linear in the line's length: a pattern
 * like `(a+)+$` cannot backtrack catastrophically as a JavaScript RegExp would. Deviation: an invalid pattern is
 * 400 before the stream opens (upstream ends the stream with 500).
 */
export function compileGrep(pattern: string | undefined): LineFilter | undefined {
  if (!pattern) return undefined
  if (pattern.length > MAX_PATTERN) throw ApiError.invalidArgument(`grep: pattern longer than ${MAX_PATTERN} characters`)
  let re: RE2JS
  try {
    re = RE2JS.compile(pattern)
  } catch (err) {
    throw ApiError.invalidArgument(`grep: ${(err as Error).message}`)
  }
  return (content) => re.matcher(content).find()
}
