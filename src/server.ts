import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { AccessReview } from './auth/access-review.js'
import { Gatekeeper } from './auth/gatekeeper.js'
import { baseHrefDir, startSso } from './auth/sso/index.js'
import { parseClusterSettings, type ClusterSettings } from './config/configmap.js'
import type { Config } from './config/schema.js'
import { ApiError, GrpcCode } from './http/errors.js'
import { createLogger } from './http/log.js'
import { selfSignedCertificate } from './http/tls.js'
import { InfoService } from './info/service.js'
import { KubeClient } from './kube/client.js'
import { loadKubeConfig, type KubeSource } from './kube/config.js'
import { Informer, stallFor } from './kube/informer.js'
import { LAST_ATTEMPT_MS, SYNC_WAIT_MS } from './kube/outage.js'
import { Workflows } from './kube/resources.js'
import { WatchHub } from './kube/watch-hub.js'
import { PastStates } from './kube/past-state.js'
import { EventWatches } from './events/event-watches.js'
import type { IndexEntry } from './workflows/workflow-index.js'
import { notReady } from './workflows/list.js'
import { jsonHydrator } from './workflows/hydrate.js'
import { WorkflowService } from './workflows/service.js'
import { WorkflowStore } from './workflows/workflow-store.js'
import { pastEntryOf } from './workflows/watch-resume.js'
import { startArchive, type Archive } from './archive/index.js'
import { startSubmission } from './wait/index.js'
import { templateServices } from './templates/service.js'
import { CronWorkflowService } from './cron/service.js'

export interface Server {
  app: FastifyInstance
  settings: ClusterSettings
  archive: Archive
  close(): Promise<void>
}

/** Wires config, Kubernetes, caches and services into an app that is ready to listen. */
export async function createServer(config: Config, source: KubeSource, extra: { logStream?: { write(line: string): void } } = {}): Promise<Server> {
  const kc = loadKubeConfig(source)
  const kube = new KubeClient(kc)
  const managedNamespace = config.namespaced ? config.managedNamespace || config.namespace : ''
  const log = createLogger({ level: config.loglevel, format: config.logFormat, stream: extra.logStream })
  const settings = parseClusterSettings(await readConfigMap(kube, config, log), config.allowedLinkProtocol)

  const store = new WorkflowStore()
  // One watch of workflows per server feeds the list store and, through it, every watching client.
  // Streams end --watch-outage-seconds after the API's last answer: the informer's detection counts into it.
  const outageMs = config.watchOutageSeconds * 1000
  // Before declaring an outage the hub has the informer try once more (`informer` is declared below; asked later).
  const hub = new WatchHub<IndexEntry>({ historyBytes: config.watchHistoryBytes, outageMs, stillFailing: () => informer.attemptNow(LAST_ATTEMPT_MS) })
  store.subscribe((event) => hub.publish(event))
  const informer = new Informer(kube.listSource(Workflows, managedNamespace), store, {
    log: (msg, err) => log.warn(err ? `${msg}: ${err instanceof Error ? err.message : String(err)}` : msg), onHealth: (e, since) => hub.setHealth(e, since), stallMs: stallFor(outageMs), outageMs,
    onProgress: (rv) => hub.advance(Number(rv) || 0),
  })
  const ready = () => waitFor(informer.synced, SYNC_WAIT_MS)
  const stream = { heartbeatMs: config.sseHeartbeatSeconds * 1000, maxBufferBytes: config.streamBufferBytes }

  // A permission check unanswered when the watch declares the API out (or after 10 s) fails with Unavailable.
  const access = new AccessReview({ outages: hub })
  const eventWatches = new EventWatches(kube, config.watchOutageSeconds * 1000)
  const gatekeeper = new Gatekeeper(config.modes, kube)
  const sso = await startSso(config, settings, kube, gatekeeper, { info: (m) => log.info(m), warn: (m) => log.warn(m) })
  const info = new InfoService({
    settings,
    managedNamespace,
    modals: { feedback: config.env.feedbackModal, firstTimeUser: config.env.firstTimeUserModal, newVersion: config.env.newVersionModal },
  })
  const warn = (m: string) => log.warn(m)
  const archive = await startArchive({
    config, settings, kube, store, access, synced: informer.synced, managedNamespace, log: warn,
    // Called at request time, once `workflows` (which reads the archive) exists.
    create: (identity, req) => workflows.create(identity, req),
  })
  // Workflows whose nodes the controller compressed or offloaded get them back in lists and events (spec §2.4, §2.9).
  const hydrate = jsonHydrator(archive.offloaded, warn)
  const workflows = new WorkflowService({
    store, access, instanceId: settings.instanceID, propagationPolicy: config.env.wfDelPropagationPolicy, archive: archive.service,
    offloaded: archive.offloaded,
  })
  const submission = startSubmission({
    store, access, instanceId: settings.instanceID, ready, archive: archive.service,
    maxWaitSeconds: config.maxWaitSeconds, windowSeconds: config.idempotencyWindowSeconds, hydrate,
  })
  const app = await buildApp({
    bodyLimit: config.requestBodyLimit,
    log,
    staticPage: { hsts: config.secure && config.hsts, xFrameOptions: config.xFrameOptions, corsAllowOrigin: config.accessControlAllowOrigin },
    https: config.secure ? await selfSignedCertificate() : undefined,
    rateLimit: { perSecond: config.apiRateLimit, keyHeaders: config.env.ipKeyFuncHeaders },
  }, {
    gatekeeper,
    info,
    workflows,
    workflowList: { store, access, instanceId: settings.instanceID, ready, archive: archive.listing, hydrate },
    workflowWatch: {
      store, hub, access, instanceId: settings.instanceID, ready, hydrate,
      past: new PastStates({ source: (ns) => kube.listSource(Workflows, managedNamespace || ns), toEntry: pastEntryOf(store), log: warn }),
    },
    stream,
    grepBudgetMs: config.logGrepBudgetSeconds * 1000,
    access,
    eventWatches,
    archive: archive.service,
    submission,
    templates: templateServices(settings.instanceID),
    cron: new CronWorkflowService(settings.instanceID),
    oauth2: { sso, baseHref: baseHrefDir(config.baseHref), redirectUrl: settings.sso?.redirectUrl ?? '' },
  })
  // Started last: a start-up that fails before here (an archive migration, say) leaves no watch running.
  informer.start()
  void informer.synced.then(() => hub.reset(Number(store.resourceVersion) || 0))
  return {
    app,
    settings,
    archive,
    async close() {
      informer.stop()
      submission.waiters.close()
      // Open streams end with an error a client can act on (reconnect elsewhere), not a connection cut mid-body.
      const shutdown = new ApiError(GrpcCode.Unavailable, 'the server is shutting down')
      hub.close(shutdown)
      eventWatches.close(shutdown)
      await app.close()
      await archive.close()
    },
  }
}

async function readConfigMap(kube: KubeClient, config: Config, log: FastifyBaseLogger): Promise<Record<string, string> | undefined> {
  try {
    return await kube.getConfigMap(config.namespace, config.configmap)
  } catch (err) {
    // Forbidden or unreachable: start with defaults rather than not at all; the informer will report the cluster.
    log.warn(`cannot read configmap ${config.namespace}/${config.configmap}: ${(err as Error).message}`)
    return undefined
  }
}

function waitFor(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(notReady()), ms)
    p.then(() => { clearTimeout(t); resolve() }, reject)
  })
}
