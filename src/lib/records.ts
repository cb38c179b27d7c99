// JSON objects of unknown shape: request bodies and Kubernetes objects are read field by field.

export type Rec = Record<string, unknown>

/** A JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** `v` when it is a JSON object, else an empty one: for reading optional nested fields. */
export const recordOrEmpty = (v: unknown): Rec => (isRecord(v) ? v : {})

/** A shallow copy of `v` when it is a JSON object, else an empty one: request bodies are untrusted shapes. */
export const asObject = (v: unknown): Rec => (isRecord(v) ? { ...v } : {})
