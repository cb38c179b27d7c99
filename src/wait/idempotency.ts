import { createHash } from 'node:crypto'
import type { Identity } from '../auth/index.js'
import { ApiError, GrpcCode, hasCode, isNotFound, unlessDenied } from '../http/errors.js'
import { Workflows, type KubeObject } from '../kube/resources.js'
import { KEY_ANNOTATION, KEY_LABEL, REQUEST_HASH_ANNOTATION, toApiObject, type ApiWorkflow, type Decorate, type Submission, type WorkflowStore } from '../workflows/index.js'

const NAME_SUFFIX = 16
const MAX_NAME = 63

export interface IdempotencyDeps {
  store: WorkflowStore
  /** the archive fall-back of GetWorkflow (authorizes the caller itself); undefined without persistence */
  archive?: { findForGet(identity: Identity, namespace: string, name: string, uid?: string): Promise<KubeObject | undefined> }
  /** --idempotency-window-seconds */
  windowSeconds: number
}

/** 422: the key was used with another request (no gRPC code has that status; the body keeps the contract shape). */
export class IdempotencyMismatch extends ApiError {
  constructor(message: string) {
    super(GrpcCode.FailedPrecondition, message)
  }
  override get httpStatus(): number {
    return 422
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** JSON with object keys sorted at every level: equal requests hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

export function validateKey(key: string): void {
  if (!/^[\x20-\x7e]{1,255}$/.test(key) || key.trim() !== key) {
    throw ApiError.invalidArgument('Idempotency-Key must be 1 to 255 printable ASCII characters without leading or trailing spaces')
  }
}

/**
 * Idempotent create/submit. The workflow itself is the durable record, in Kubernetes (survives restarts, shared by
 * replicas): its name is derived from sha256(namespace, key) unless the body fixes one, and it carries the key and
 * the request's hash. Kubernetes' create is the arbiter: of concurrent duplicates exactly one create succeeds and
 * the others get 409 AlreadyExists, read the winner, and answer it as a replay.
 */
export class Idempotency {
  readonly #d: IdempotencyDeps

  constructor(deps: IdempotencyDeps) {
    this.#d = deps
  }

  async run(identity: Identity, key: string, sub: Submission, create: (decorate: Decorate) => Promise<ApiWorkflow>): Promise<{ workflow: ApiWorkflow; replayed: boolean }> {
    validateKey(key)
    const keyHash = sha256(`${sub.namespace}\n${key}`)
    const requestHash = sha256(canonicalJson({ kind: sub.kind, namespace: sub.namespace, body: sub.body }))
    const check = (wf: KubeObject | ApiWorkflow) => this.#verdict(wf, key, requestHash)

    // 1. Known to the cache (any replica's create, once watched): found by the key's label, whatever its name.
    const cached = this.#d.store.query({ namespace: sub.namespace, labels: [{ key: KEY_LABEL, operator: '=', values: [keyHash.slice(0, 63)] }], limit: 1 }).items[0]
    if (cached) {
      const live = await this.#getLive(identity, sub.namespace, cached.name)
      if (live) {
        const v = check(live)
        if (v !== 'other') return { workflow: toApiObject(live), replayed: true }
      }
    }
    let name: string | undefined
    const decorate: Decorate = async (wf) => {
      const md = { ...wf.metadata }
      if (!md.name) {
        md.name = `${(md.generateName ?? 'workflow-').slice(0, MAX_NAME - NAME_SUFFIX)}${keyHash.slice(0, NAME_SUFFIX)}`
        delete md.generateName
      }
      name = md.name
      // 2. Deleted from Kubernetes but archived within the window: still a replay (the name is free again).
      // A caller who may create but not get cannot be shown one; an archive that cannot be read (503) fails the
      // request rather than risk a second run of the same key.
      const archived = await this.#d.archive?.findForGet(identity, sub.namespace, md.name).catch(unlessDenied)
      if (archived && check(archived) === 'same') throw new Replay(toApiObject(archived))
      md.annotations = { ...md.annotations, [KEY_ANNOTATION]: key, [REQUEST_HASH_ANNOTATION]: requestHash }
      md.labels = { ...md.labels, [KEY_LABEL]: keyHash.slice(0, 63) }
      return { ...wf, metadata: md }
    }
    try {
      return { workflow: await create(decorate), replayed: false }
    } catch (err) {
      if (err instanceof Replay) return { workflow: err.workflow, replayed: true }
      // 3. Lost the race (or the cache lagged): the winner is the workflow of that name, if it carries this key.
      if (!hasCode(err, GrpcCode.AlreadyExists) || !name) throw err
      const live = await this.#getLive(identity, sub.namespace, name)
      if (!live || check(live) === 'other') throw err
      return { workflow: toApiObject(live), replayed: true }
    }
  }

  /** 'same' = a replay; throws 422 for another request under the key; 'other' = not this key's workflow (or expired). */
  #verdict(wf: KubeObject | ApiWorkflow, key: string, requestHash: string): 'same' | 'other' {
    const md = wf.metadata ?? {}
    const annotations = (md.annotations ?? {}) as Record<string, string>
    if (annotations[KEY_ANNOTATION] !== key) return 'other'
    const created = Date.parse(String(md.creationTimestamp ?? ''))
    if (Number.isFinite(created) && Date.now() - created > this.#d.windowSeconds * 1000) return 'other'
    if (annotations[REQUEST_HASH_ANNOTATION] !== requestHash) {
      throw new IdempotencyMismatch(`Idempotency-Key "${key}" was already used with a different request (workflow ${String(md.name)})`)
    }
    return 'same'
  }

  async #getLive(identity: Identity, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await identity.kube.get(Workflows, namespace, name)
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }
}

class Replay extends Error {
  constructor(readonly workflow: ApiWorkflow) {
    super('replay')
  }
}
