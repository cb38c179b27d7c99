import type { Writable } from 'node:stream'
import {
  AuthorizationV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type V1Lease,
} from '@kubernetes/client-node'
import { apiClient } from './agents.js'
import { ApiError, grpcCodeOfHttp, isNotFound } from '../http/errors.js'
import { kubeConfigForCaller, ownToken } from './config.js'
import { toApiError } from './errors.js'
import { listPage } from './list-page.js'
import { streamPodLog, type PodLogOptions } from './pod-log.js'
import { openWatch, type WatchQuery } from './watch-request.js'
import type { ListSource } from './informer.js'
import type { AccessAttributes, ArgoResource, KubeList, KubeObject, ListParams, PodSummary } from './resources.js'

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw toApiError(err)
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

/**
 * Kubernetes as one identity sees it (the caller's token, or the server's own credentials).
 * Services get plain JSON and ApiErrors; the library's types stay in kube/.
 */
export class KubeClient {
  readonly #custom: CustomObjectsApi
  readonly #core: CoreV1Api
  readonly #authz: AuthorizationV1Api
  readonly #coordination: CoordinationV1Api
  readonly kubeConfig: KubeConfig

  constructor(kc: KubeConfig) {
    this.kubeConfig = kc
    this.#custom = apiClient(kc, CustomObjectsApi)
    this.#core = apiClient(kc, CoreV1Api)
    this.#authz = apiClient(kc, AuthorizationV1Api)
    this.#coordination = apiClient(kc, CoordinationV1Api)
  }

  /** The same cluster, authenticated as a caller: `Bearer <token>` or `Basic <user:pass>` (client auth mode). */
  asCaller(auth: { token: string } | { username: string; password: string }): KubeClient {
    return new KubeClient(kubeConfigForCaller(this.kubeConfig, auth))
  }

  /** The bearer token this client sends, if its kubeconfig holds one (for server-mode claims). */
  get token(): string | undefined {
    return ownToken(this.kubeConfig)
  }

  get(res: ArgoResource, namespace: string, name: string): Promise<KubeObject> {
    const { group, version, plural } = res
    return call(() => res.namespaced
      ? this.#custom.getNamespacedCustomObject({ group, version, plural, namespace, name })
      : this.#custom.getClusterCustomObject({ group, version, plural, name }))
  }

  /** Lists in one namespace, or in every namespace when `namespace` is ''. */
  list(res: ArgoResource, namespace: string, p: ListParams = {}): Promise<KubeList> {
    const { group, version, plural } = res
    const q = { labelSelector: p.labelSelector, fieldSelector: p.fieldSelector, limit: p.limit, _continue: p.continue, resourceVersion: p.resourceVersion }
    return call(() => res.namespaced && namespace
      ? this.#custom.listNamespacedCustomObject({ group, version, plural, namespace, ...q })
      : this.#custom.listClusterCustomObject({ group, version, plural, ...q }))
  }

  create(res: ArgoResource, namespace: string, body: KubeObject, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const { group, version, plural } = res
    const dryRun = opts.dryRun ? 'All' : undefined
    return call(() => res.namespaced
      ? this.#custom.createNamespacedCustomObject({ group, version, plural, namespace, body, dryRun })
      : this.#custom.createClusterCustomObject({ group, version, plural, body, dryRun }))
  }

  replace(res: ArgoResource, namespace: string, name: string, body: KubeObject): Promise<KubeObject> {
    const { group, version, plural } = res
    return call(() => res.namespaced
      ? this.#custom.replaceNamespacedCustomObject({ group, version, plural, namespace, name, body })
      : this.#custom.replaceClusterCustomObject({ group, version, plural, name, body }))
  }

  /** JSON merge patch (RFC 7386). */
  patch(res: ArgoResource, namespace: string, name: string, body: unknown): Promise<KubeObject> {
    const { group, version, plural } = res
    return call(() => res.namespaced
      ? this.#custom.patchNamespacedCustomObject({ group, version, plural, namespace, name, body }, mergePatch)
      : this.#custom.patchClusterCustomObject({ group, version, plural, name, body }, mergePatch))
  }

  async delete(res: ArgoResource, namespace: string, name: string, propagationPolicy?: string): Promise<void> {
    const { group, version, plural } = res
    await call(() => res.namespaced
      ? this.#custom.deleteNamespacedCustomObject({ group, version, plural, namespace, name, propagationPolicy })
      : this.#custom.deleteClusterCustomObject({ group, version, plural, name, propagationPolicy }))
  }

  /** What an Informer lists and watches: an Argo resource in `namespace`, or everywhere when ''. */
  listSource(res: ArgoResource, namespace: string): ListSource {
    const base = `/apis/${res.group}/${res.version}`
    return this.#source(namespace && res.namespaced ? `${base}/namespaces/${namespace}/${res.plural}` : `${base}/${res.plural}`, res.plural)
  }

  /** core/v1 Events in `namespace` (or everywhere when ''), as an Informer source. */
  eventSource(namespace: string): ListSource {
    return this.#source(namespace ? `/api/v1/namespaces/${namespace}/events` : '/api/v1/events', 'events')
  }

  /** One ConfigMap in `namespace`, as an Informer source (the watch covers the namespace's ConfigMaps). */
  configMapSource(namespace: string, name: string): ListSource {
    return this.#source(`/api/v1/namespaces/${namespace}/configmaps`, 'configmaps', { fieldSelector: `metadata.name=${name}` })
  }

  /** Lists (with `fixed` over the caller's parameters) and watches of `path`, with this client's credentials. */
  #source(path: string, what: string, fixed: ListParams = {}): ListSource {
    return { kubeConfig: this.kubeConfig, list: (p, progress, signal) => listPage(this.kubeConfig, path, { ...p, ...fixed }, progress, signal), watchPath: path, what }
  }

  /** SelfSubjectAccessReview: may this identity do `attrs`? A bad token fails with 401. */
  async canI(attrs: AccessAttributes): Promise<boolean> {
    const review = await call(() => this.#authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { ...attrs } } },
    }))
    return review.status?.allowed === true
  }

  /** A Secret's data, base64-decoded; undefined when it does not exist. */
  async getSecret(namespace: string, name: string): Promise<Record<string, Buffer> | undefined> {
    try {
      const secret = await call(() => this.#core.readNamespacedSecret({ namespace, name }))
      return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]))
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  /** @throws ApiError code 6 when it already exists (another replica won the race) */
  async createSecret(namespace: string, name: string, data: Record<string, Buffer>): Promise<void> {
    const body = { metadata: { name, namespace }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])) }
    await call(() => this.#core.createNamespacedSecret({ namespace, body }))
  }

  /** The ServiceAccounts of a namespace: name, annotations and the names of their listed secrets. */
  async listServiceAccounts(namespace: string): Promise<{ name: string; annotations: Record<string, string>; secrets: string[] }[]> {
    const list = await call(() => this.#core.listNamespacedServiceAccount({ namespace }))
    return list.items.map((sa) => ({
      name: sa.metadata?.name ?? '',
      annotations: sa.metadata?.annotations ?? {},
      secrets: (sa.secrets ?? []).flatMap((s) => (s.name ? [s.name] : [])),
    }))
  }

  /** Pods of a namespace, reduced to what the log streamer needs, and the list's resourceVersion to watch from. */
  async listPods(namespace: string, p: ListParams = {}): Promise<{ resourceVersion: string; pods: PodSummary[] }> {
    const list = await call(() => this.#core.listNamespacedPod({ namespace, labelSelector: p.labelSelector, fieldSelector: p.fieldSelector }))
    return { resourceVersion: list.metadata?.resourceVersion ?? '', pods: list.items.map((pod) => podSummary(pod)) }
  }

  /** Deletes one pod (retry deletes the pods of the nodes it re-runs, spec §2.7). */
  async deletePod(namespace: string, name: string): Promise<void> {
    await call(() => this.#core.deleteNamespacedPod({ namespace, name }))
  }

  /**
   * A watch on `path` (e.g. /api/v1/namespaces/argo/pods) as this identity. `onDone` gets undefined when the server
   * closed the watch, else the error (an ApiError when the apiserver answered one). Returns the stop function.
   * A watch refused with 410 Gone is an ERROR event with code 410, then a close.
   */
  async watch(path: string, query: WatchQuery, onEvent: (type: string, obj: KubeObject) => void, onDone: (err?: unknown) => void): Promise<() => void> {
    let stopped = false
    const ac = await openWatch(this.kubeConfig, path, query, onEvent, (err: unknown) => {
      if (stopped) return
      const status = (err as { statusCode?: unknown } | null)?.statusCode
      onDone(!err ? undefined : typeof status === 'number' ? new ApiError(grpcCodeOfHttp(status), String((err as Error).message)) : toApiError(err))
    })
    return () => {
      stopped = true
      ac.abort()
    }
  }

  /** Pipes a container's log into `sink`, ended with the log (or by `signal`). Resolves once the answer is 200. */
  podLog(namespace: string, pod: string, sink: Writable, opts: PodLogOptions, signal: AbortSignal): Promise<void> {
    return streamPodLog(this.kubeConfig, namespace, pod, sink, opts, signal)
  }

  /** A coordination.k8s.io/v1 Lease, undefined when it does not exist. */
  async getLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    try {
      return toLeaseRecord(await call(() => this.#coordination.readNamespacedLease({ namespace, name })))
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  /**
   * Creates the Lease, or replaces it when `lease.resourceVersion` is set (optimistic concurrency: another holder's
   * write in between is a 409, code 6, and this one loses).
   */
  async writeLease(namespace: string, name: string, lease: LeaseRecord): Promise<LeaseRecord> {
    // MicroTime on the wire is RFC 3339 with exactly six fractional digits.
    const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date
    const body = {
      metadata: { name, namespace, ...(lease.resourceVersion ? { resourceVersion: lease.resourceVersion } : {}) },
      spec: {
        holderIdentity: lease.holderIdentity, leaseDurationSeconds: lease.leaseDurationSeconds,
        acquireTime: micro(lease.acquireTime), renewTime: micro(lease.renewTime), leaseTransitions: lease.leaseTransitions,
      },
    }
    return toLeaseRecord(await call(() => lease.resourceVersion
      ? this.#coordination.replaceNamespacedLease({ namespace, name, body })
      : this.#coordination.createNamespacedLease({ namespace, body })))
  }

  async getConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const cm = await call(() => this.#core.readNamespacedConfigMap({ namespace, name }))
      return cm.data ?? {}
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }
}

/** A Lease reduced to what leader election reads; times in ms. */
export interface LeaseRecord {
  holderIdentity: string
  leaseDurationSeconds: number
  acquireTime: number
  renewTime: number
  leaseTransitions: number
  resourceVersion?: string
}

function toLeaseRecord(l: V1Lease): LeaseRecord {
  const ms = (t: unknown) => (t ? new Date(t as string | Date).getTime() || 0 : 0)
  return {
    holderIdentity: l.spec?.holderIdentity ?? '',
    leaseDurationSeconds: l.spec?.leaseDurationSeconds ?? 0,
    acquireTime: ms(l.spec?.acquireTime),
    renewTime: ms(l.spec?.renewTime),
    leaseTransitions: l.spec?.leaseTransitions ?? 0,
    resourceVersion: l.metadata?.resourceVersion,
  }
}

function podSummary(pod: { metadata?: { name?: string; uid?: string }; status?: { phase?: string } }): PodSummary {
  return { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', phase: pod.status?.phase ?? '' }
}
