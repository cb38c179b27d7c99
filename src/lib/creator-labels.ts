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

/**
 * The actor labels as a merge patch of `metadata.labels` (upstream's workflow actions send them so): each value, or
 * null to remove a label the caller's claims do not back (and the action when there is none).
 */
export function actorLabelPatch(claims: UserClaims, action: string): Record<string, string | null> {
  const v = (s: string | undefined) => (s ? dnsFriendly(s) || null : null)
  return {
    [LabelActor]: v(claims.sub),
    [LabelActorEmail]: v(claims.email?.replace('@', '.at.')),
    [LabelActorPreferredUsername]: v(claims.preferred_username),
    [LabelAction]: v(action),
  }
}

/** `labels` with a merge patch applied: null removes. */
function patchLabels(labels: Readonly<Record<string, string>>, patch: Readonly<Record<string, string | null>>): Record<string, string> {
  const out = { ...labels }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = v
  }
  return out
}

export function applyActorLabels(labels: Record<string, string>, claims: UserClaims, action: string): Record<string, string> {
  return patchLabels(labels, actorLabelPatch(claims, action))
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
