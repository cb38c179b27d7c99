import type { ClusterSettings } from '../../config/configmap.js'
import type { Config } from '../../config/schema.js'
import type { KubeClient } from '../../kube/client.js'
import type { Gatekeeper } from '../gatekeeper.js'
import { Sso, type SsoOptions } from './sso.js'

/** `--base-href` as a directory: cookies' Path and the callback prefix end with `/`. */
export const baseHrefDir = (b: string) => (b.endsWith('/') ? b : `${b}/`)

/**
 * Starts SSO when `--auth-mode=sso`: reads the configmap's `sso` block and its Secrets, attaches to the
 * gatekeeper. The SSO namespace is the managed namespace when namespaced, else the install namespace (spec §7.1).
 * @throws Error when the block is missing or a Secret cannot be read: the server does not start half-configured
 */
export async function startSso(config: Config, settings: ClusterSettings, kube: KubeClient, gatekeeper: Gatekeeper, log: SsoOptions['log']): Promise<Sso | undefined> {
  if (!config.modes.has('sso')) return undefined
  if (!settings.sso) throw new Error(`--auth-mode=sso needs an "sso" block in configmap ${config.namespace}/${config.configmap}`)
  const sso = await Sso.create({
    settings: settings.sso,
    installNamespace: config.namespace,
    ssoNamespace: config.namespaced ? config.managedNamespace || config.namespace : config.namespace,
    baseHref: baseHrefDir(config.baseHref),
    // delegation never applies to a namespaced server (spec §5.4)
    delegate: config.env.ssoDelegateRbacToNamespace && !config.namespaced,
    kube,
    clientFor: (token) => gatekeeper.kubeForToken(token),
    log,
  })
  gatekeeper.attachSso(sso)
  return sso
}
