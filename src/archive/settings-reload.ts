import { rawSettings } from '../config/configmap.js'
import type { KubeClient } from '../kube/client.js'
import { Informer } from '../kube/informer.js'
import type { KubeObject } from '../kube/resources.js'
import { archivingSettings, type ArchivingSettings } from './persistence.js'

export interface SettingsReloadOptions {
  kube: KubeClient
  namespace: string
  configmap: string
  /** what was applied at start */
  initial: ArchivingSettings
  /** --database-url and --archive-ttl, which win over the configmap as at start */
  databaseUrl: string
  archiveTtl: string
  apply(s: ArchivingSettings): void
  log(msg: string): void
}

const same = (a: ArchivingSettings, b: ArchivingSettings) =>
  a.archive === b.archive && a.ttlSeconds === b.ttlSeconds && JSON.stringify(a.selector) === JSON.stringify(b.selector)

/**
 * Upstream's controller re-reads its configmap when it changes (its updateConfig), and its archiving follows.
 * This server archives in its place, so it follows `persistence.archive`, `archiveLabelSelector` and
 * `archiveTTL` the same way, through a watch of the configmap. Where the archive is (the postgresql block,
 * clusterName) is read at start only: a change there is logged as needing a restart. Returns the stop function.
 */
export function followArchivingSettings(o: SettingsReloadOptions): () => void {
  let current = o.initial
  let where: string | undefined
  let listed: KubeObject | undefined
  const seen = (obj: KubeObject | undefined) => {
    if (!obj || obj.metadata.name !== o.configmap) return // a deleted configmap leaves the settings as they are
    let next: ReturnType<typeof archivingSettings>
    try {
      next = archivingSettings(rawSettings((obj as { data?: Record<string, string> }).data).persistence, o)
    } catch (err) {
      o.log(`archive: configmap ${o.namespace}/${o.configmap} changed but cannot be read, archiving settings kept: ${(err as Error).message}`)
      return
    }
    if (where !== undefined && next.where !== where && !o.databaseUrl) {
      o.log(`archive: configmap ${o.namespace}/${o.configmap}: persistence.postgresql or clusterName changed, restart the server to apply`)
    }
    where = next.where
    if (same(next, current)) return
    o.log(`archive: configmap ${o.namespace}/${o.configmap} changed: archive ${next.archive}, ${next.selector.length} label requirements, TTL ${next.ttlSeconds} s`)
    current = next
    o.apply(next)
  }
  const informer = new Informer(o.kube.configMapSource(o.namespace, o.configmap), {
    beginSync: () => { listed = undefined },
    syncPage: (objects) => { listed = objects.find((c) => c.metadata.name === o.configmap) ?? listed },
    endSync: () => seen(listed),
    onEvent: (type, obj) => seen(type === 'DELETED' ? undefined : obj),
  }, { log: (msg) => o.log(`archive: configmap watch: ${msg}`) })
  informer.start()
  return () => informer.stop()
}
