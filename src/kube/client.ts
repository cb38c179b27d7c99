import {
  AuthorizationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node'
import { toApiError } from './errors.js'
import type { AccessAttributes, ArgoResource, KubeList, KubeObject, ListParams } from './resources.js'

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
  readonly kubeConfig: KubeConfig

  constructor(kc: KubeConfig) {
    this.kubeConfig = kc
    this.#custom = kc.makeApiClient(CustomObjectsApi)
    this.#core = kc.makeApiClient(CoreV1Api)
    this.#authz = kc.makeApiClient(AuthorizationV1Api)
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

  /** SelfSubjectAccessReview: may this identity do `attrs`? A bad token fails with 401. */
  async canI(attrs: AccessAttributes): Promise<boolean> {
    const review = await call(() => this.#authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { ...attrs } } },
    }))
    return review.status?.allowed === true
  }

  async getConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const cm = await call(() => this.#core.readNamespacedConfigMap({ namespace, name }))
      return cm.data ?? {}
    } catch (err) {
      if ((err as { code?: number }).code === 5) return undefined
      throw err
    }
  }
}
