/** A shallow copy of `v` when it is a JSON object, else an empty one: request bodies are untrusted shapes. */
export const asObject = (v: unknown): Record<string, unknown> =>
  (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {})
