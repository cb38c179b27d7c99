/** A throwaway CA and a server certificate it signs, for 127.0.0.1 / localhost / ::1. */
import { generate } from 'selfsigned'

export interface ServerCert {
  caPem: string
  certPem: string
  keyPem: string
}

export async function generateServerCert(): Promise<ServerCert> {
  const notBeforeDate = new Date(Date.now() - 60_000)
  const notAfterDate = new Date(Date.now() + 365 * 24 * 3600_000)
  // EC keys: generation is instant, unlike 2048-bit RSA
  const ca = await generate([{ name: 'commonName', value: 'kube-emulator-ca' }], {
    keyType: 'ec', algorithm: 'sha256', notBeforeDate, notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  })
  const server = await generate([{ name: 'commonName', value: 'kube-emulator' }], {
    keyType: 'ec', algorithm: 'sha256', notBeforeDate, notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  })
  return { caPem: ca.cert, certPem: server.cert, keyPem: server.private }
}
