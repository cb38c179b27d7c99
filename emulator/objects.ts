/** Write semantics of the apiserver's generic registry: create, update, patch, delete, with its validation and errors. */
import { randomUUID, randomInt } from 'node:crypto'
import type { KubeObject } from './types.js'
import type { ResourceDef } from './resources.js'
import { apiVersionOf, findResource, RESOURCES } from './resources.js'
import type { Entry, Store } from './store.js'
import { parseJson } from './store.js'
import { ApiError, errors } from './status.js'
import { invalidMetadata, metadataErrors } from './meta-validation.js'
import { mergePatch } from '../src/lib/merge-patch.js'
import { applyJsonPatch, JsonPatchError } from './json-patch.js'

export interface WriteOpts {
  dryRun?: boolean
  subresource?: string
}

export interface DeleteOpts {
  dryRun?: boolean
  /** ignore finalizers (direct store removal, namespace deletion) */
  force?: boolean
  preconditions?: { uid?: string; resourceVersion?: string }
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply'

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789' // the apiserver's generateName alphabet: no vowels, no confusable digits

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

let lastSecond = -1
let lastStamp = ''
/** Now, in RFC 3339 with second precision, as metav1.Time serializes (cached: bulk creates call it a lot). */
export function nowRFC3339(): string {
  const sec = Math.floor(Date.now() / 1000)
  if (sec !== lastSecond) {
    lastSecond = sec
    lastStamp = new Date(sec * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  }
  return lastStamp
}

function randomSuffix(): string {
  let s = ''
  for (let i = 0; i < 5; i++) s += ALNUM[randomInt(ALNUM.length)]
  return s
}

/** Everything but metadata and status, as a string: a change there bumps metadata.generation. */
function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = obj
  return JSON.stringify(rest)
}

function finalizersOf(obj: KubeObject): string[] {
  const f = obj.metadata.finalizers
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : []
}

export class Objects {
  /** called on every object about to be created (not on dry runs), e.g. to mint service-account tokens */
  beforeCreate: ((res: ResourceDef, obj: KubeObject) => void) | undefined

  constructor(readonly store: Store) {}

  getEntry(res: ResourceDef, namespace: string, name: string): Entry {
    const e = this.store.get(res, namespace, name)
    if (!e) throw errors.notFound(res.group, res.resource, name)
    return e
  }

  #checkNamespace(res: ResourceDef, namespace: string): void {
    if (!res.namespaced) return
    const nsRes = findResource('', 'namespaces') as ResourceDef
    if (!this.store.get(nsRes, '', namespace)) throw errors.notFound('', 'namespaces', namespace)
  }

  #validateName(res: ResourceDef, name: string): void {
    const label = res.resource === 'namespaces'
    const re = label ? DNS1123_LABEL : DNS1123_SUBDOMAIN
    const max = label ? 63 : 253
    if (name.length > max || !re.test(name)) {
      const msg = name.length > max ? `must be no more than ${max} characters` : label ? LABEL_MSG : SUBDOMAIN_MSG
      throw errors.invalid(res.group, res.kind, name, [{ field: 'metadata.name', value: name, message: msg }])
    }
  }

  /** Copies the top level and metadata, fills apiVersion/kind and checks namespace/name: the common input checks. */
  #prepare(res: ResourceDef, namespace: string, body: unknown): KubeObject {
    if (!isObject(body)) throw errors.badRequest(`the body of the request was not a JSON object (${Array.isArray(body) ? 'array' : typeof body})`)
    const meta = body.metadata === undefined || body.metadata === null ? {} : body.metadata
    if (!isObject(meta)) throw errors.badRequest('metadata must be an object')
    const obj: KubeObject = { ...body, apiVersion: apiVersionOf(res), kind: res.kind, metadata: { ...meta } }
    if (res.namespaced) {
      const bodyNs = obj.metadata.namespace
      if (bodyNs !== undefined && bodyNs !== '' && bodyNs !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request')
      }
      obj.metadata.namespace = namespace
    } else {
      delete obj.metadata.namespace
    }
    for (const f of ['labels', 'annotations'] as const) {
      const v: unknown = obj.metadata[f]
      if (v === null) delete obj.metadata[f]
      else if (v !== undefined && (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string'))) {
        throw errors.badRequest(`metadata.${f} must be a map of strings`)
      }
    }
    if (res.group === '' && res.resource === 'secrets' && isObject(obj.stringData)) {
      // stringData is write-only: the apiserver folds it into data
      const data: Record<string, unknown> = isObject(obj.data) ? { ...obj.data } : {}
      for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64')
      obj.data = data
      delete obj.stringData
    }
    // keep apiVersion/kind first, as the apiserver serializes them
    const { apiVersion, kind, metadata, ...rest } = obj
    return { apiVersion, kind, metadata, ...rest }
  }

  create(res: ResourceDef, namespace: string, body: unknown, opts: WriteOpts = {}): KubeObject {
    const obj = this.#prepare(res, namespace, body)
    const m = obj.metadata
    if (!m.name) {
      if (typeof m.generateName !== 'string' || !m.generateName) throw errors.invalid(res.group, res.kind, '', [{ field: 'metadata.name', message: 'name or generateName is required' }])
      // like the apiserver's RetryGenerateName: a few fresh suffixes before giving up on a collision
      for (let i = 0; i < 8 && (!m.name || this.store.get(res, namespace, m.name)); i++) m.name = m.generateName + randomSuffix()
    }
    if (typeof m.name !== 'string') throw errors.badRequest('metadata.name must be a string')
    this.#checkNamespace(res, namespace)
    this.#validateName(res, m.name)
    const invalid = metadataErrors(obj)
    if (invalid.length) throw invalidMetadata(res.group, res.kind, m.name, invalid)
    if (this.store.get(res, namespace, m.name)) throw errors.alreadyExists(res.group, res.resource, m.name)
    if (typeof m.resourceVersion === 'string' && /^\d+$/.test(m.resourceVersion) && Number(m.resourceVersion) !== 0) throw errors.resourceVersionOnCreate()
    dropEmpty(m)
    m.uid = randomUUID()
    m.creationTimestamp = nowRFC3339()
    m.generation = 1
    delete m.resourceVersion
    delete m.deletionTimestamp
    delete m.deletionGracePeriodSeconds
    if (res.group === '' && res.resource === 'pods') {
      const status = isObject(obj.status) ? obj.status : {}
      obj.status = { phase: 'Pending', ...status }
    }
    if (res.group === '' && res.resource === 'namespaces') {
      obj.spec = { finalizers: ['kubernetes'] }
      obj.status = { phase: 'Active' }
    }
    if (opts.dryRun) return obj
    this.beforeCreate?.(res, obj)
    const rv = this.store.nextRV()
    m.resourceVersion = String(rv)
    this.store.commit(res, 'ADDED', obj, rv)
    return obj
  }

  update(res: ResourceDef, namespace: string, name: string, body: unknown, opts: WriteOpts = {}): KubeObject {
    const next = this.#prepare(res, namespace, body)
    if (next.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${String(next.metadata.name ?? '')}) does not match the name on the URL (${name})`)
    }
    const existing = this.getEntry(res, namespace, name)
    const rv = next.metadata.resourceVersion
    if (rv === undefined || rv === '') {
      if (!res.unconditionalUpdate) {
        throw errors.invalid(res.group, res.kind, name, [{ field: 'metadata.resourceVersion', value: 0, message: 'must be specified for an update' }])
      }
    } else if (rv !== String(existing.rv)) {
      throw errors.conflict(res.group, res.resource, name)
    }
    return this.#write(res, existing, next, opts)
  }

  patch(res: ResourceDef, namespace: string, name: string, type: PatchType, patch: unknown, opts: WriteOpts = {}): KubeObject {
    const existing = this.getEntry(res, namespace, name)
    const current = parseJson(existing.json)
    let patched: unknown
    try {
      patched = type === 'json' ? applyJsonPatch(current, patch) : mergePatch(current, patch)
    } catch (err) {
      if (err instanceof JsonPatchError) throw new ApiError(422, 'Invalid', err.message)
      throw err
    }
    if (!isObject(patched) || !isObject(patched.metadata)) throw errors.badRequest('the patched object is not a valid object')
    const prv = patched.metadata.resourceVersion
    if (prv !== undefined && prv !== null && prv !== '' && String(prv) !== String(existing.rv)) {
      throw errors.conflict(res.group, res.resource, name)
    }
    const next = this.#prepare(res, namespace, { ...patched, metadata: { ...patched.metadata, name, namespace: res.namespaced ? namespace : undefined } })
    return this.#write(res, existing, next, opts)
  }

  /** The shared tail of update and patch: immutable metadata, generation, no-op detection, finalizer-driven deletion. */
  #write(res: ResourceDef, existing: Entry, input: KubeObject, opts: WriteOpts): KubeObject {
    const old = parseJson(existing.json)
    let next = input
    if (opts.subresource === 'status') {
      next = { ...old, metadata: { ...old.metadata } }
      if (input.status === undefined) delete next.status
      else next.status = input.status
    } else if (opts.subresource) {
      throw errors.notFoundPath()
    }
    const m = next.metadata
    dropEmpty(m)
    const om: Record<string, unknown> = old.metadata
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (om[k] === undefined) delete m[k]
      else m[k] = om[k]
    }
    if (om.deletionTimestamp !== undefined) {
      // As the apiserver's ValidateObjectMetaUpdate: an object being deleted takes no new finalizers.
      const added = finalizersOf(next).filter((f) => !finalizersOf(old).includes(f))
      if (added.length) {
        const cause = `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`
        throw new ApiError(422, 'Invalid', `${res.group ? `${res.kind}.${res.group}` : res.kind} "${String(m.name)}" is invalid: metadata.finalizers: ${cause}`,
          { name: String(m.name), group: res.group || undefined, kind: res.kind, causes: [{ reason: 'FieldValueForbidden', message: cause, field: 'metadata.finalizers' }] })
      }
    }
    const invalid = metadataErrors(next)
    if (invalid.length) throw invalidMetadata(res.group, res.kind, String(m.name), invalid)
    m.resourceVersion = String(existing.rv)
    const oldGen = typeof old.metadata.generation === 'number' ? old.metadata.generation : 1
    m.generation = specOf(next) === specOf(old) ? oldGen : oldGen + 1
    const deleting = m.deletionTimestamp !== undefined && finalizersOf(next).length === 0
    if (!deleting && JSON.stringify(next) === existing.json) return next // a no-op write changes nothing, as in the apiserver
    if (opts.dryRun) return next
    const rv = this.store.nextRV()
    m.resourceVersion = String(rv)
    if (deleting) this.store.remove(res, existing, next, rv)
    else this.store.commit(res, 'MODIFIED', next, rv)
    return next
  }

  /** Deletes (or, with finalizers, marks for deletion). `gone` says whether the object is no longer stored. */
  delete(res: ResourceDef, namespace: string, name: string, opts: DeleteOpts = {}): { obj: KubeObject; gone: boolean } {
    const existing = this.getEntry(res, namespace, name)
    const obj = parseJson(existing.json)
    const pre = opts.preconditions
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw errors.conflict(res.group, res.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(obj.metadata.uid)}`)
    }
    if (pre?.resourceVersion && pre.resourceVersion !== String(existing.rv)) {
      throw errors.conflict(res.group, res.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.rv}`)
    }
    if (!opts.force && finalizersOf(obj).length > 0) {
      if (obj.metadata.deletionTimestamp !== undefined || opts.dryRun) {
        obj.metadata.deletionTimestamp ??= nowRFC3339()
        return { obj, gone: false }
      }
      obj.metadata.deletionTimestamp = nowRFC3339()
      obj.metadata.deletionGracePeriodSeconds = 0
      const rv = this.store.nextRV()
      obj.metadata.resourceVersion = String(rv)
      this.store.commit(res, 'MODIFIED', obj, rv)
      return { obj, gone: false }
    }
    if (opts.dryRun) return { obj, gone: true }
    if (res.group === '' && res.resource === 'namespaces') this.#deleteNamespaceContents(name)
    const rv = this.store.nextRV()
    obj.metadata.resourceVersion = String(rv)
    this.store.remove(res, existing, obj, rv)
    return { obj, gone: true }
  }

  #deleteNamespaceContents(namespace: string): void {
    for (const r of RESOURCES) {
      if (!r.namespaced || r.virtual) continue
      const names = [...this.store.scan(r, namespace)].map((e) => e.name)
      for (const n of names) this.delete(r, namespace, n, { force: true })
    }
  }
}

/**
 * Metadata as the apiserver stores it, custom resources included (their metadata goes through the typed ObjectMeta,
 * whose maps and lists are omitempty): an empty `labels: {}` or `finalizers: []` is not kept.
 */
function dropEmpty(m: KubeObject['metadata']): void {
  for (const f of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    const v = m[f]
    if ((Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0)) delete m[f]
  }
}
