import { createHash, generateKeyPairSync } from 'node:crypto'
import type { KubeClient } from '../../kube/client.js'
import { GrpcCode, hasCode } from '../../http/errors.js'

export const SSO_SECRET = 'sso'
const KEY_FIELD = 'cookieEncryptionPrivateKey'

/**
 * The session key: SHA-256 of the PKCS#1 DER of the RSA key in Secret `sso` of the install namespace, created
 * when absent (spec §5.2, upstream server/auth/sso/sso.go), so every replica — ours or upstream's — derives the
 * same key without sharing state. Revoking every session = deleting the Secret and restarting the replicas.
 */
export async function loadSessionKey(kube: KubeClient, namespace: string): Promise<Buffer> {
  let data = await kube.getSecret(namespace, SSO_SECRET)
  if (!data?.[KEY_FIELD]) {
    const der = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'der' })
    try {
      await kube.createSecret(namespace, SSO_SECRET, { [KEY_FIELD]: der })
    } catch (err) {
      // Another replica created it first: use theirs.
      if (!hasCode(err, GrpcCode.AlreadyExists)) throw err
    }
    data = await kube.getSecret(namespace, SSO_SECRET)
  }
  const der = data?.[KEY_FIELD]
  if (!der?.length) throw new Error(`secret ${namespace}/${SSO_SECRET} has no ${KEY_FIELD}`)
  return createHash('sha256').update(der).digest()
}
