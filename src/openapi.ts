import { buildApp } from './app.js'
import { ArchiveService } from './archive/service.js'
import { CronWorkflowService } from './cron/service.js'
import { templateServices } from './templates/service.js'
import { startSubmission } from './wait/index.js'
import { AccessReview } from './auth/access-review.js'
import { Gatekeeper } from './auth/gatekeeper.js'
import { InfoService } from './info/service.js'
import { KubeClient } from './kube/client.js'
import { kubeConfigForDocs } from './kube/config.js'
import { WorkflowService } from './workflows/service.js'
import { WorkflowStore } from './workflows/workflow-store.js'
import { WatchHub } from './kube/watch-hub.js'
import { EventWatches } from './events/event-watches.js'
import type { IndexEntry } from './workflows/workflow-index.js'

/** The OpenAPI document as the routes declare it, built without contacting any cluster (npm run openapi). */
export async function generateOpenApi(): Promise<unknown> {
  const kc = kubeConfigForDocs()
  const kube = new KubeClient(kc)
  const store = new WorkflowStore()
  const access = new AccessReview()
  const list = { store, access, instanceId: '', ready: async () => {} }
  const submission = startSubmission({ ...list, maxWaitSeconds: 0, windowSeconds: 1 })
  const app = await buildApp({ bodyLimit: 1024, rateLimit: { perSecond: 0, keyHeaders: [] }, staticPage: { hsts: false, xFrameOptions: '', corsAllowOrigin: '' } }, {
    gatekeeper: new Gatekeeper(new Set(['server']), kube),
    info: new InfoService({ settings: { instanceID: '', links: [], columns: [], navColor: '' }, managedNamespace: '', modals: { feedback: true, firstTimeUser: true, newVersion: true } }),
    workflows: new WorkflowService({ store, access, instanceId: '', propagationPolicy: 'Background' }),
    workflowList: list,
    workflowWatch: { store, hub: new WatchHub<IndexEntry>({ historyBytes: 0, outageMs: 1 }), access, instanceId: '', ready: async () => {}, hydrate: async (json) => json },
    stream: { heartbeatMs: 15_000, maxBufferBytes: 1 },
    access,
    eventWatches: new EventWatches(kube, 1),
    archive: new ArchiveService({ access, instanceId: '' }),
    submission,
    templates: templateServices(''),
    cron: new CronWorkflowService(''),
  })
  await app.ready()
  const spec = app.swagger()
  await app.close()
  submission.waiters.close()
  return spec
}
