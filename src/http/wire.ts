/**
 * Upstream's JSON quirks live here and nowhere else (spec §0 "JSON codec"):
 * Go's encoding/json escapes <, > and & in strings, and every response is application/json.
 */

const htmlChars = /[<>&\u2028\u2029]/g
const escapes: Record<string, string> = {
  '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029',
}

/** JSON.stringify with Go's HTML-safe escaping; only string contents can hold these characters. */
export function toWireJson(value: unknown): string {
  return wireEscape(JSON.stringify(value) ?? 'null')
}

/** Go's HTML-safe escaping applied to JSON text built elsewhere (e.g. spliced from Postgres' jsonb text). */
export function wireEscape(json: string): string {
  return json.replace(htmlChars, (c) => escapes[c] ?? c)
}
