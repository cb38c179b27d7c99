import { ApiError } from '../http/errors.js'
import type { AccessAttributes } from '../kube/resources.js'
import type { Identity } from './identity.js'

const TTL_MS = 5_000
const MAX_ENTRIES = 10_000

/**
 * SelfSubjectAccessReview with the caller's own client, cached briefly per caller and question.
 * Everything the server serves from its own caches goes through here first (lessons-from-argo §3).
 */
export class AccessReview {
  readonly #cache = new Map<string, { allowed: boolean; expires: number }>()

  async can(identity: Identity, attrs: AccessAttributes): Promise<boolean> {
    const key = `${identity.key}|${attrs.verb}|${attrs.group}|${attrs.resource}|${attrs.subresource ?? ''}|${attrs.namespace}|${attrs.name ?? ''}`
    const now = Date.now()
    const hit = this.#cache.get(key)
    if (hit && hit.expires > now) return hit.allowed
    const allowed = await identity.kube.canI(attrs)
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(key, { allowed, expires: now + TTL_MS })
    return allowed
  }

  /** @throws ApiError permissionDenied(`message`) when not allowed; 401 when the token is bad. */
  async require(identity: Identity, attrs: AccessAttributes, message: string): Promise<void> {
    if (!(await this.can(identity, attrs))) throw ApiError.permissionDenied(message)
  }
}
