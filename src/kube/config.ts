import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'

/** Where the cluster comes from, decided like kubectl: flag, KUBECONFIG, ~/.kube/config, in-cluster. */
export type KubeSource = { kind: 'file'; path: string } | { kind: 'in-cluster' }

export function findKubeSource(opts: { kubeconfig: string; kubeconfigEnv: string; home: string; inCluster: boolean }): KubeSource | undefined {
  if (opts.kubeconfig) return { kind: 'file', path: opts.kubeconfig }
  if (opts.kubeconfigEnv) return { kind: 'file', path: opts.kubeconfigEnv }
  const home = opts.home && join(opts.home, '.kube', 'config')
  if (home && existsSync(home)) return { kind: 'file', path: home }
  if (opts.inCluster) return { kind: 'in-cluster' }
  return undefined
}

export function loadKubeConfig(source: KubeSource): KubeConfig {
  const kc = new KubeConfig()
  if (source.kind === 'in-cluster') kc.loadFromCluster()
  else {
    const files = source.path.split(':').filter(Boolean)
    if (files.length > 1) mergeFiles(kc, files)
    else kc.loadFromFile(files[0] ?? source.path)
  }
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${source.kind === 'file' ? source.path : ''} has no current cluster`)
  return kc
}

/**
 * KUBECONFIG may list several files, merged by kubectl's rules: files that do not exist are skipped, and the first
 * file to set a name (a cluster, user or context) or current-context wins. (client-node's loadFromDefault lets a
 * later current-context win and throws on a name two files share.)
 */
function mergeFiles(kc: KubeConfig, paths: string[]): void {
  const files = paths.filter((p) => existsSync(p))
  if (!files.length) throw new Error(`none of the kubeconfig files ${paths.join(', ')} exists`)
  for (const file of files) {
    const next = new KubeConfig()
    next.loadFromFile(file)
    if (!kc.currentContext) kc.currentContext = next.currentContext
    for (const c of next.clusters) if (!kc.getCluster(c.name)) kc.addCluster(c)
    for (const u of next.users) if (!kc.getUser(u.name)) kc.addUser(u)
    for (const c of next.contexts) if (!kc.getContextObject(c.name)) kc.addContext(c)
  }
}

/** The same cluster as `base`, authenticated as the caller: `Bearer <token>` or `Basic <user:pass>`. */
export function kubeConfigForCaller(base: KubeConfig, auth: { token: string } | { username: string; password: string }): KubeConfig {
  const cluster = base.getCurrentCluster()
  if (!cluster) throw new Error('no current cluster')
  const kc = new KubeConfig()
  kc.loadFromClusterAndUser(cluster, { name: 'caller', ...auth })
  return kc
}

/** The bearer token the server itself uses, if its kubeconfig holds one (for server-mode claims). */
export function ownToken(kc: KubeConfig): string | undefined {
  return kc.getCurrentUser()?.token || undefined
}

/** A kubeconfig that is never contacted: for building the OpenAPI document offline. */
export function kubeConfigForDocs(): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromClusterAndUser({ name: 'docs', server: 'https://127.0.0.1:1', skipTLSVerify: false }, { name: 'docs' })
  return kc
}
