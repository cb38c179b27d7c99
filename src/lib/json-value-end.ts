/**
 * Where the JSON object or array that `text` starts with (after whitespace) ends: the index after its closing
 * bracket, or -1 if it starts with something else or never closes. Only brackets and strings are followed; whether
 * what lies between them is valid JSON is for JSON.parse to say.
 */
export function jsonValueEnd(text: string): number {
  let i = 0
  while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++
  const first = text.charAt(i)
  if (first !== '{' && first !== '[') return -1
  let depth = 0
  for (; i < text.length; i++) {
    const c = text.charAt(i)
    if (c === '"') {
      // to the closing quote, stepping over escapes (`\"`, `\\`)
      for (i++; i < text.length && text.charAt(i) !== '"'; i++) if (text.charAt(i) === '\\') i++
    } else if (c === '{' || c === '[') {
      depth++
    } else if ((c === '}' || c === ']') && --depth === 0) {
      return i + 1
    }
  }
  return -1
}
