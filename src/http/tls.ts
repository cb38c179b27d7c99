import type { FastifyRequest } from 'fastify'
import { generate } from 'selfsigned'

/**
 * A self-signed certificate made per process (upstream util/tls: CN/org ArgoProj, SAN localhost, 365 days),
 * never shipped in the image (GHSA-6c73-2v8x-qpvm).
 */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const now = new Date()
  const pems = await generate([{ name: 'commonName', value: 'ArgoProj' }, { name: 'organizationName', value: 'ArgoProj' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  })
  return { key: pems.private, cert: pems.cert }
}

/**
 * TLS to us, or to the TLS-terminating proxy in front (X-Forwarded-Proto, as upstream's ProxyHeaders): cookies
 * get `Secure` and the derived callback URL `https`.
 */
export function isSecure(req: FastifyRequest): boolean {
  return req.protocol === 'https' || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https'
}
