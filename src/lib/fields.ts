/**
 * Upstream's `fields` masks (spec §2.3, util/fields/fields.go): a comma-separated list of dotted paths;
 * a leading '-' makes the whole list an exclude list. Array indices are not part of a path.
 */
export interface FieldMask {
  readonly exclude: boolean
  readonly paths: ReadonlySet<string>
}

export function parseFields(spec: string | undefined): FieldMask | undefined {
  if (!spec) return undefined
  const exclude = spec.startsWith('-')
  const paths = new Set((exclude ? spec.slice(1) : spec).split(',').map((p) => p.trim()).filter(Boolean))
  return { exclude, paths }
}

/**
 * Applies the mask in place and returns the value.
 * Include mode keeps a key whose path is listed (whole subtree) or is a string prefix of a listed path
 * (then recurses). Quirk (upstream): the prefix test is not segment-aware, so `status.phaseX` keeps `status.phase`.
 */
export function applyFields<T>(value: T, mask: FieldMask | undefined): T {
  if (mask) clean(value, '', mask)
  return value
}

function clean(value: unknown, path: string, mask: FieldMask): void {
  if (Array.isArray(value)) {
    for (const v of value) clean(v, path, mask)
    return
  }
  if (typeof value !== 'object' || value === null) return
  const obj = value as Record<string, unknown>
  for (const key of Object.keys(obj)) {
    const p = path ? `${path}.${key}` : key
    const listed = mask.paths.has(p)
    if (mask.exclude) {
      if (listed) delete obj[key]
      else clean(obj[key], p, mask)
    } else if (!listed) {
      if (isPrefixOfListed(p, mask.paths)) clean(obj[key], p, mask)
      else delete obj[key]
    }
  }
}

function isPrefixOfListed(p: string, paths: ReadonlySet<string>): boolean {
  for (const listed of paths) if (listed.startsWith(p)) return true
  return false
}
