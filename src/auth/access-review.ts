import { ApiError } from '../http/errors.js'
import { ANSWER_WITHIN_MS, answeredWithin } from '../kube/outage.js'
import type { AccessAttributes } from '../kube/resources.js'
import type { OutageNotice } from '../kube/watch-hub.js'
import type { Identity } from './identity.js'

const TTL_MS = 5_000
const MAX_ENTRIES = 10_000

export interface AccessReviewOptions {
  /** the server's shared watch: a review still unanswered when it declares the Kubernetes API out fails with it */
  outages?: OutageNotice
  /** how long a review may go unanswered before it fails with Unavailable (a stream then ends with 503, spec §3) */
  timeoutMs?: number
}

/**
 * SelfSubjectAccessReview with the caller's own client, cached briefly per caller and question.
 * Everything the server serves from its own caches goes through here first (lessons-from-argo §3).
 */
export class AccessReview {
  readonly #cache = new Map<string, { allowed: boolean; expires: number }>()
  /** reviews under way: a burst of the same question (many streams opened at once) asks the API once */
  readonly #asking = new Map<string, Promise<boolean>>()
  readonly #outages: OutageNotice | undefined
  readonly #timeoutMs: number

  constructor(opts: AccessReviewOptions = {}) {
    this.#outages = opts.outages
    this.#timeoutMs = opts.timeoutMs ?? ANSWER_WITHIN_MS
  }

  async can(identity: Identity, attrs: AccessAttributes): Promise<boolean> {
    const key = `${identity.key}|${attrs.verb}|${attrs.group}|${attrs.resource}|${attrs.subresource ?? ''}|${attrs.namespace}|${attrs.name ?? ''}`
    const now = Date.now()
    const hit = this.#cache.get(key)
    if (hit && hit.expires > now) return hit.allowed
    let asking = this.#asking.get(key)
    if (!asking) {
      // Shared with its deadline: one left unanswered is dropped then, and the next caller asks again.
      asking = answeredWithin(this.#ask(identity, attrs, key), 'a SelfSubjectAccessReview', this.#timeoutMs, this.#outages)
      this.#asking.set(key, asking)
      void asking.finally(() => this.#asking.delete(key)).catch(() => {})
    }
    return asking
  }

  async #ask(identity: Identity, attrs: AccessAttributes, key: string): Promise<boolean> {
    const allowed = await identity.kube.canI(attrs)
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(key, { allowed, expires: Date.now() + TTL_MS })
    return allowed
  }

  /** @throws ApiError permissionDenied(`message`) when not allowed; 401 when the token is bad. */
  async require(identity: Identity, attrs: AccessAttributes, message: string): Promise<void> {
    if (!(await this.can(identity, attrs))) throw ApiError.permissionDenied(message)
  }
}
