/** Labels upstream stamps on created and submitted workflows (workflow/creator/creator.go). */
export const LabelCreator = 'workflows.argoproj.io/creator'
export const LabelCreatorEmail = 'workflows.argoproj.io/creator-email'
export const LabelCreatorPreferredUsername = 'workflows.argoproj.io/creator-preferred-username'

/** A label value from free text: allowed characters only, at most 63, alphanumeric at both ends. */
export function dnsFriendly(s: string): string {
  let v = s.replace(/[^-_.a-zA-Z0-9]/g, '-')
  if (v.length > 63) v = v.slice(v.length - 63)
  return v.replace(/^[^a-zA-Z0-9]+/, '').replace(/[^a-zA-Z0-9]+$/, '')
}

/**
 * Sets the creator labels from the caller's claims, and removes any the caller supplied that their claims do not
 * back, so nobody can submit as someone else.
 */
export function applyCreatorLabels(
  labels: Record<string, string>,
  claims: { sub?: string; email?: string; preferred_username?: string },
): Record<string, string> {
  const out = { ...labels }
  const set = (key: string, v: string | undefined) => {
    const value = v ? dnsFriendly(v) : ''
    if (value) out[key] = value
    else delete out[key]
  }
  set(LabelCreator, claims.sub)
  set(LabelCreatorEmail, claims.email?.replace('@', '.at.'))
  set(LabelCreatorPreferredUsername, claims.preferred_username)
  return out
}
