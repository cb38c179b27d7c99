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
export function applyCreatorLabels(labels: Record<string, string>, claims: UserClaims): Record<string, string> {
  return userLabels(labels, claims, [LabelCreator, LabelCreatorEmail, LabelCreatorPreferredUsername])
}

/** Who last acted on an object, and how (upstream creator.LabelActor, e.g. on a template or cron update). */
export const LabelActor = 'workflows.argoproj.io/actor'
export const LabelActorEmail = 'workflows.argoproj.io/actor-email'
export const LabelActorPreferredUsername = 'workflows.argoproj.io/actor-preferred-username'
export const LabelAction = 'workflows.argoproj.io/action'

export function applyActorLabels(labels: Record<string, string>, claims: UserClaims, action: string): Record<string, string> {
  return { ...userLabels(labels, claims, [LabelActor, LabelActorEmail, LabelActorPreferredUsername]), [LabelAction]: dnsFriendly(action) }
}

type UserClaims = { sub?: string; email?: string; preferred_username?: string }

function userLabels(labels: Record<string, string>, claims: UserClaims, [user, email, username]: readonly [string, string, string]): Record<string, string> {
  const out = { ...labels }
  const set = (key: string, v: string | undefined) => {
    const value = v ? dnsFriendly(v) : ''
    if (value) out[key] = value
    else delete out[key]
  }
  set(user, claims.sub)
  set(email, claims.email?.replace('@', '.at.'))
  set(username, claims.preferred_username)
  return out
}
