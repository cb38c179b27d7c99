import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { deflateRawSync, inflateRawSync } from 'node:zlib'

/**
 * Compact JWE with `alg: dir`, `enc: A256GCM`, `zip: DEF` (RFC 7516 §7.1, RFC 7518 §5.3): upstream's session
 * token format since v4.1.2 (spec §5.2), so tokens minted by an upstream replica sharing Secret `sso` verify here
 * and ours there. Hand-written on node:crypto: `jose` no longer implements `zip`, and this is all of it.
 */

// go-jose marshals the protected header with sorted keys; fixed bytes keep the AAD identical.
const HEADER = Buffer.from('{"alg":"dir","enc":"A256GCM","zip":"DEF"}').toString('base64url')
/** a token inflating to more than this is refused (a DEFLATE bomb costs nothing to send) */
const MAX_PLAINTEXT = 64 * 1024

export function encryptJwe(key: Buffer, payload: object): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(HEADER, 'ascii'))
  const ct = Buffer.concat([cipher.update(deflateRawSync(Buffer.from(JSON.stringify(payload)))), cipher.final()])
  return `${HEADER}..${iv.toString('base64url')}.${ct.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
}

/** The payload, or undefined for anything that is not a token we (or upstream with our key) encrypted. */
export function decryptJwe(key: Buffer, token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 5) return undefined
  const [h, ek, ivB, ctB, tagB] = parts as [string, string, string, string, string]
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  const hd = header as { alg?: unknown; enc?: unknown; zip?: unknown; crit?: unknown } | null
  if (!hd || hd.alg !== 'dir' || hd.enc !== 'A256GCM' || (hd.zip !== undefined && hd.zip !== 'DEF') || hd.crit !== undefined || ek !== '') return undefined
  const iv = Buffer.from(ivB, 'base64url')
  const tag = Buffer.from(tagB, 'base64url')
  if (iv.length !== 12 || tag.length !== 16) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    decipher.setAAD(Buffer.from(h, 'ascii'))
    decipher.setAuthTag(tag)
    const plain = Buffer.concat([decipher.update(Buffer.from(ctB, 'base64url')), decipher.final()])
    const json = hd.zip === 'DEF' ? inflateRawSync(plain, { maxOutputLength: MAX_PLAINTEXT }) : plain
    const payload: unknown = JSON.parse(json.toString('utf8'))
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
