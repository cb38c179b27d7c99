import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { AccessReview } from './auth/access-review.js'
import { Gatekeeper } from './auth/gatekeeper.js'
import { parseClusterSettings, type ClusterSettings } from './config/configmap.js'
import type { Config } from './config/schema.js'
import { selfSignedCertificate } from './http/tls.js'
import { InfoService } from './info/service.js'
import { KubeClient } from './kube/client.js'
import { loadKubeConfig, type KubeSource } from './kube/config.js'
import { Informer } from './kube/informer.js'
import { Workflows } from './kube/resources.js'
import { notReady } from './workflows/list.js'
import { WorkflowService } from './workflows/service.js'
import { WorkflowStore } from './workflows/workflow-store.js'

export interface Server {
  app: FastifyInstance
  settings: ClusterSettings
  close(): Promise<void>
}

const SYNC_WAIT_MS = 30_000

/** Wires config, Kubernetes, caches and services into an app that is ready to listen. */
export async function createServer(config: Config, source: KubeSource): Promise<Server> {
  const kc = loadKubeConfig(source)
  const kube = new KubeClient(kc)
  const managedNamespace = config.namespaced ? config.managedNamespace || config.namespace : ''
  const settings = parseClusterSettings(await readConfigMap(kube, config), config.allowedLinkProtocol)

  const store = new WorkflowStore()
  const logger = { level: config.loglevel }
  const app0log = (msg: string, err?: unknown) => console.error(`${msg}${err ? `: ${(err as Error).message ?? String(err)}` : ''}`)
  const informer = new Informer(kube, Workflows, store, { namespace: managedNamespace, log: app0log })
  informer.start()
  const ready = () => waitFor(informer.synced, SYNC_WAIT_MS)

  const access = new AccessReview()
  const gatekeeper = new Gatekeeper(config.modes, kc, kube)
  const info = new InfoService({
    settings,
    managedNamespace,
    modals: { feedback: config.env.feedbackModal, firstTimeUser: config.env.firstTimeUserModal, newVersion: config.env.newVersionModal },
  })
  const workflows = new WorkflowService({ store, access, instanceId: settings.instanceID, propagationPolicy: config.env.wfDelPropagationPolicy })
  const app = await buildApp({
    bodyLimit: config.requestBodyLimit,
    logger,
    https: config.secure ? await selfSignedCertificate() : undefined,
  }, {
    gatekeeper,
    info,
    workflows,
    workflowList: { store, access, instanceId: settings.instanceID, ready },
  })
  return {
    app,
    settings,
    async close() {
      informer.stop()
      await app.close()
    },
  }
}

async function readConfigMap(kube: KubeClient, config: Config): Promise<Record<string, string> | undefined> {
  try {
    return await kube.getConfigMap(config.namespace, config.configmap)
  } catch (err) {
    // Forbidden or unreachable: start with defaults rather than not at all; the informer will report the cluster.
    console.error(`warning: cannot read configmap ${config.namespace}/${config.configmap}: ${(err as Error).message}`)
    return undefined
  }
}

function waitFor(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(notReady()), ms)
    p.then(() => { clearTimeout(t); resolve() }, reject)
  })
}
