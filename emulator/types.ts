/**
 * The Kubernetes API emulator's programmatic surface, used by src/sandbox and test/ only.
 * The server itself never sees this: it reaches the emulator through a kubeconfig.
 */

/** An RBAC rule, as in a (Cluster)Role; `namespaces` absent = every namespace (a ClusterRoleBinding). */
export interface PolicyRule {
  verbs: string[] // get list watch create update patch delete deletecollection, or '*'
  apiGroups: string[] // '' for core, 'argoproj.io', '*'
  resources: string[] // 'workflows', 'pods/log', '*'
  resourceNames?: string[]
  namespaces?: string[]
}

export interface EmulatorUser {
  token: string
  /** e.g. 'system:serviceaccount:argo:argo-server' */
  username: string
  groups?: string[]
  rules: PolicyRule[]
}

export interface FaultRule {
  method?: string // GET, POST, … ; absent = any
  /** matched against the request path (no query), e.g. /apis/argoproj.io/v1alpha1/namespaces/argo/workflows */
  path: RegExp
  /** include watch requests (?watch=true); default: both */
  watch?: boolean
  /** matched against the query string (without `?`), e.g. /resourceVersion=12(&|$)/ */
  query?: RegExp
  status?: number // respond with a kind: Status error of this code
  delayMs?: number // delay before handling (or before the error)
  /** answer 200 and send nothing more, never ending the response (a stuck watch behind a live apiserver) */
  hang?: boolean
  /** answer 200, then drop the connection at once (a proxy that cuts long requests as soon as they start) */
  cut?: boolean
  /** drop the connection without answering (the client sees ECONNRESET: an apiserver restarting behind its address) */
  reset?: boolean
  /** every byte of the response reaches the client this much later, in order (a slow link or a lagging watch cache) */
  lagMs?: number
  /** the response's body trickles out at this rate, in small pieces (a slow link: always sending, slowly) */
  bytesPerSecond?: number
  times?: number // how many requests to affect; default 1, Infinity for all
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name?: string
    generateName?: string
    namespace?: string
    uid?: string
    resourceVersion?: string
    creationTimestamp?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    [k: string]: unknown
  }
  [k: string]: unknown
}

/** How a resource is addressed in the store: plural resource name plus API group ('' = core). */
export interface ResourceRef {
  group: string // '' | 'argoproj.io' | 'coordination.k8s.io' | …
  resource: string // 'workflows', 'pods', …
  namespace?: string // absent for cluster-scoped resources
}

export interface EmulatorOptions {
  host?: string // default 127.0.0.1
  port?: number // default 0 (ephemeral)
  tls?: boolean // default false; true = self-signed cert for 127.0.0.1/localhost, CA in `caPem`
  /** extra users besides the built-in admin */
  users?: EmulatorUser[]
  /** how many watch events are retained before a too-old resourceVersion gets 410 Gone (default 10000) */
  historySize?: number
  /** default namespaces to create (default ['default']) */
  namespaces?: string[]
  /** interval of BOOKMARK events on watches with allowWatchBookmarks=true (default 1000 ms) */
  bookmarkIntervalMs?: number
  /** false: lists ignore resourceVersionMatch and answer with the current state, as apiservers before 1.19 do */
  resourceVersionMatch?: boolean
}

export interface Emulator {
  readonly url: string // e.g. http://127.0.0.1:40123
  readonly caPem: string | undefined
  /** token of a built-in user allowed everything ('admin') */
  readonly adminToken: string
  /** A kubeconfig (YAML) that points at this emulator and authenticates with `token` (default: admin). */
  kubeconfig(token?: string, namespace?: string): string
  /** Writes kubeconfig(token) to `path` and returns the path. */
  writeKubeconfig(path: string, token?: string, namespace?: string): Promise<string>
  addUser(user: EmulatorUser): void

  // --- direct store access (no HTTP, no auth); emits watch events like an API write would ---
  create(ref: ResourceRef, obj: KubeObject): KubeObject
  get(ref: ResourceRef, name: string): KubeObject | undefined
  list(ref: ResourceRef): KubeObject[]
  /** JSON merge patch (RFC 7386); bumps resourceVersion, emits MODIFIED */
  patch(ref: ResourceRef, name: string, mergePatch: unknown): KubeObject
  /** Deletes immediately (ignores finalizers); emits DELETED */
  remove(ref: ResourceRef, name: string): void
  /** Deletes as a DELETE request does: with finalizers it is only marked for deletion (deletionTimestamp) */
  delete(ref: ResourceRef, name: string): void
  /** Appends a line to a container's log (what the kubelet would capture). time defaults to now. */
  /** Direct store watch: called synchronously after every write to that resource (any namespace if ref.namespace is absent). Returns an unsubscribe function. */
  subscribe(ref: ResourceRef, listener: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void): () => void
  appendPodLog(namespace: string, pod: string, container: string, line: string, time?: Date): void

  // --- fault injection, for tests ---
  /** Ends every open watch connection (the client sees the stream close). */
  dropWatches(): void
  /** Forgets watch history: a watch from any earlier resourceVersion then gets ERROR 410 Gone. */
  compact(): void
  /**
   * Stops answering, as a stopped apiserver or a proxy holding connections open: new requests wait and open watches
   * and followed logs send nothing. The returned function resumes: held requests are answered, held lines sent.
   */
  pause(): () => void
  /** Adds a fault rule; returns a function that removes it. */
  fault(rule: FaultRule): () => void
  /** Number of currently open watch connections, optionally only those on paths matching `path`. */
  openWatches(path?: RegExp): number
  /** Count of requests received, optionally filtered. */
  requestCount(filter?: { method?: string; path?: RegExp; watch?: boolean }): number
  /** TCP (TLS) connections accepted so far */
  connectionCount(): number

  close(): Promise<void>
}
