/**
 * Just enough of the Kubernetes protobuf encoding (application/vnd.kubernetes.protobuf) to read the small
 * built-in bodies kubectl sends that way: DeleteOptions, the reviews, and Namespace/ConfigMap/Secret/ServiceAccount
 * (metadata, data, type).
 * Anything else in protobuf gets 415, and kubectl's unstructured (JSON) requests are unaffected.
 */
import { errors } from './status.js'
import { ApiError } from './status.js'

type Fields = Map<number, (Buffer | bigint)[]>

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]) // "k8s\0"

function varint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n
  let shift = 0n
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint')
    const b = buf[pos++] as number
    result |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return [result, pos]
    shift += 7n
  }
}

function decode(buf: Buffer): Fields {
  const out: Fields = new Map()
  let pos = 0
  while (pos < buf.length) {
    const [tag, p1] = varint(buf, pos)
    pos = p1
    const field = Number(tag >> 3n)
    const wire = Number(tag & 7n)
    let value: Buffer | bigint
    if (wire === 0) {
      ;[value, pos] = varint(buf, pos)
    } else if (wire === 2) {
      const [len, p2] = varint(buf, pos)
      value = buf.subarray(p2, p2 + Number(len))
      pos = p2 + Number(len)
    } else if (wire === 1) {
      value = buf.subarray(pos, pos + 8)
      pos += 8
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4)
      pos += 4
    } else {
      throw new Error(`unsupported wire type ${wire}`)
    }
    if (pos > buf.length) throw new Error('truncated message')
    const list = out.get(field)
    if (list) list.push(value)
    else out.set(field, [value])
  }
  return out
}

function str(f: Fields, n: number): string | undefined {
  const v = f.get(n)?.[0]
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined
}

function strs(f: Fields, n: number): string[] {
  return (f.get(n) ?? []).filter(Buffer.isBuffer).map((b) => b.toString('utf8'))
}

function msg(f: Fields, n: number): Fields | undefined {
  const v = f.get(n)?.[0]
  return Buffer.isBuffer(v) ? decode(v) : undefined
}

/** A protobuf map<string, string|bytes>: repeated entries {1: key, 2: value}. */
function map(f: Fields, n: number, bytes = false): Record<string, string> | undefined {
  const entries = f.get(n)
  if (!entries) return undefined
  const out: Record<string, string> = {}
  for (const e of entries) {
    if (!Buffer.isBuffer(e)) continue
    const kv = decode(e)
    const v = kv.get(2)?.[0]
    out[str(kv, 1) ?? ''] = Buffer.isBuffer(v) ? (bytes ? v.toString('base64') : v.toString('utf8')) : ''
  }
  return out
}

function objectMeta(f: Fields | undefined): Record<string, unknown> {
  if (!f) return {}
  const finalizers = strs(f, 14)
  return definedOnly({
    name: str(f, 1), generateName: str(f, 2), namespace: str(f, 3), resourceVersion: str(f, 6),
    labels: map(f, 11), annotations: map(f, 12), finalizers: finalizers.length > 0 ? finalizers : undefined,
  })
}

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''))
}

export function isProtobuf(contentType: string | undefined): boolean {
  return /application\/vnd\.kubernetes\.protobuf/i.test(contentType ?? '')
}

/** Converts a protobuf-encoded body of one of the supported kinds to its JSON form. */
export function protobufToJson(buf: Buffer): unknown {
  if (buf.length === 0) return undefined
  try {
    if (!buf.subarray(0, 4).equals(MAGIC)) throw new Error('missing k8s protobuf prefix')
    const unknown = decode(buf.subarray(4))
    const typeMeta = msg(unknown, 1)
    const kind = typeMeta ? str(typeMeta, 2) : undefined
    const apiVersion = typeMeta ? str(typeMeta, 1) : undefined
    const raw = msg(unknown, 2) ?? new Map()
    switch (kind) {
      case 'DeleteOptions': {
        const pre = msg(raw, 2)
        return definedOnly({
          kind, apiVersion,
          propagationPolicy: str(raw, 4),
          dryRun: strs(raw, 5),
          preconditions: pre ? definedOnly({ uid: str(pre, 1), resourceVersion: str(pre, 2) }) : undefined,
        })
      }
      case 'SelfSubjectAccessReview': {
        const spec = msg(raw, 2) ?? new Map()
        const ra = msg(spec, 1)
        const nra = msg(spec, 2)
        return {
          kind, apiVersion, metadata: {},
          spec: definedOnly({
            resourceAttributes: ra ? definedOnly({ namespace: str(ra, 1), verb: str(ra, 2), group: str(ra, 3), version: str(ra, 4), resource: str(ra, 5), subresource: str(ra, 6), name: str(ra, 7) }) : undefined,
            nonResourceAttributes: nra ? definedOnly({ path: str(nra, 1), verb: str(nra, 2) }) : undefined,
          }),
        }
      }
      case 'Namespace':
        return { kind, apiVersion, metadata: objectMeta(msg(raw, 1)) }
      case 'ServiceAccount':
        return { kind, apiVersion, metadata: objectMeta(msg(raw, 1)) }
      case 'ConfigMap':
        return definedOnly({ kind, apiVersion, metadata: objectMeta(msg(raw, 1)), data: map(raw, 2), binaryData: map(raw, 3, true) })
      case 'Secret':
        return definedOnly({ kind, apiVersion, metadata: objectMeta(msg(raw, 1)), data: map(raw, 2, true), type: str(raw, 3), stringData: map(raw, 5) })
      case 'SelfSubjectReview':
        return { kind, apiVersion, metadata: {} }
      default:
        throw new ApiError(415, 'UnsupportedMediaType', `the emulator does not decode protobuf bodies of kind ${String(kind)}; send JSON`)
    }
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw errors.badRequest(`error decoding protobuf body: ${err instanceof Error ? err.message : String(err)}`)
  }
}
