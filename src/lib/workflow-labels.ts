// Labels and the finalizer the archive leaves on live workflows, shared by the archive and the workflow service.

/** Upstream's label: Pending while a workflow is being archived, Archived once its row is written, Persisted on
 * copies read back from the archive (spec §6.2). */
export const ARCHIVING_STATUS = 'workflows.argoproj.io/workflow-archiving-status'

/**
 * Ours, not upstream's: the archive holds a workflow with it until its row is written, so a workflow deleted before
 * then stays in Kubernetes until it is (src/archive/running-hold.ts, src/archive/archiver.ts).
 */
export const ARCHIVE_FINALIZER = 'workflows.argoproj.io/archive'
