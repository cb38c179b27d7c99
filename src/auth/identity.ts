import type { KubeClient } from '../kube/client.js'
import type { Claims } from './claims.js'

/** The caller of one request: how they authenticated, the Kubernetes client acting for them, their claims. */
export interface Identity {
  readonly mode: 'client' | 'server' | 'sso'
  readonly kube: KubeClient
  readonly claims: Claims
  /** distinguishes callers in caches without holding their token (a SHA-256 of it) */
  readonly key: string
}
