import type { Identity } from '../auth/index.js'
import { ApiError, GrpcCode, isNotFound } from '../http/errors.js'
import type { EventStream } from '../http/stream.js'
import { ANSWER_WITHIN_MS, answeredWithin } from '../kube/outage.js'
import { Workflows, type KubeObject, type ListParams, type PodSummary } from '../kube/resources.js'
import type { OutageNotice } from '../kube/watch-hub.js'
import { COMPLETED_PHASES, phaseOf } from '../lib/workflow-phase.js'
import type { WorkflowService } from '../workflows/index.js'
import { LineSink, splitLine, type LogLine } from './lines.js'
import { Merger } from './merge.js'
import type { LogRequest } from './request.js'
import { watchLoop } from './watch.js'

const WORKFLOW_LABEL = 'workflows.argoproj.io/workflow'

export interface LogServiceDeps {
  workflows: WorkflowService
  /** follow mode: how long an entry waits for a silent pod before going out (upstream sorts 1 s batches) */
  lingerMs?: number
  log?: (msg: string, err?: unknown) => void
  /**
   * The server's own watch of workflows detects a silent or stalled apiserver; a log read cannot (a quiet container
   * is silent too), so in an outage the log streams end with Unavailable instead of waiting forever (lessons §1d).
   */
  outages?: OutageNotice
}

/** The output a log session writes to: the stream framer (spec §3). */
export type LogOutput = Pick<EventStream, 'open' | 'send' | 'end' | 'fail' | 'onClose' | 'closed' | 'congested' | 'onDrain'>

/** WorkflowLogs and PodLogs (spec §2.8). */
export class LogService {
  readonly #d: LogServiceDeps

  constructor(deps: LogServiceDeps) {
    this.#d = deps
  }

  /**
   * Resolves the workflow and its pods with the caller's client, then opens the stream and runs until the logs end.
   * Throws (an ApiError) only before the stream is opened, so the caller can report it with the status of its code.
   */
  async stream(identity: Identity, r: LogRequest, out: LogOutput): Promise<void> {
    const name = await this.#d.workflows.resolveName(identity, r.namespace, r.name)
    // Bounded, so a stream asked for while the API is out ends with a 503 instead of hanging with no headers.
    const answered = <T>(p: Promise<T>, what: string) => answeredWithin(p, what, ANSWER_WITHIN_MS, this.#d.outages)
    const wf = await answered(identity.kube.get(Workflows, r.namespace, name), 'a get of the workflow')
    const selector: ListParams = {
      labelSelector: `${WORKFLOW_LABEL}=${name}${r.selector ? `,${r.selector}` : ''}`,
      fieldSelector: r.podName ? `metadata.name=${r.podName}` : undefined,
    }
    const pods = await answered(identity.kube.listPods(r.namespace, selector), 'a list of its pods')
    if (out.closed) return
    out.open()
    new LogSession(identity, r, name, selector, out, this.#d).start(wf, pods)
  }
}

/** One client's log stream: which pods are being read, the watches that find more, and their merge. */
class LogSession {
  readonly #kube: Identity['kube']
  readonly #r: LogRequest
  readonly #name: string
  readonly #selector: ListParams
  readonly #out: LogOutput
  readonly #log: (msg: string, err?: unknown) => void
  readonly #merger: Merger
  /** pods already read (by uid), never read twice even after their stream ended */
  readonly #streamed = new Set<string>()
  /** aborts every log read of this session, answered or not */
  readonly #reads = new AbortController()
  #watches: (() => void)[] = []
  /** no more log reads start, and those running are aborted */
  #stopping = false
  /** the client is congested and the merger waits for its drain */
  #awaitingDrain = false

  constructor(identity: Identity, r: LogRequest, name: string, selector: ListParams, out: LogOutput, d: LogServiceDeps) {
    this.#kube = identity.kube
    this.#r = r
    this.#name = name
    this.#selector = selector
    this.#out = out
    this.#log = d.log ?? (() => {})
    this.#merger = new Merger({
      lingerMs: r.follow ? d.lingerMs ?? 1000 : undefined,
      // LogEntry's fields are omitempty: an empty line goes out as {"podName":…} (spec §2.8)
      emit: (e) => void out.send(e.content ? { content: e.content, podName: e.podName } : { podName: e.podName }),
      // A reader that pauses slows the pods' log reads (each queue fills, its read pauses) rather than being cut
      // off as a slow fan-out client is: a log goes out at the client's pace, as upstream's gRPC flow control.
      blocked: () => {
        if (!out.congested) return false
        if (!this.#awaitingDrain) {
          this.#awaitingDrain = true
          out.onDrain(() => {
            this.#awaitingDrain = false
            this.#merger.pump()
          })
        }
        return true
      },
      onDone: () => {
        this.#stop()
        out.end()
      },
    })
    // a client that goes away stops every log read and watch it caused
    out.onClose(() => {
      this.#stop()
      this.#merger.stop()
    })
    const stopNotice = d.outages?.onOutage((err) => out.fail(err))
    if (stopNotice) out.onClose(stopNotice)
  }

  start(wf: KubeObject, list: { resourceVersion: string; pods: PodSummary[] }): void {
    if (this.#stopping) return // ended already (the client went away)
    for (const p of list.pods) this.#ensureStreaming(p)
    if (!this.#r.follow || COMPLETED_PHASES.has(phaseOf(wf))) return this.#merger.seal()
    const ns = encodeURIComponent(this.#r.namespace)
    this.#watches.push(watchLoop({
      kube: this.#kube,
      path: `/api/v1/namespaces/${ns}/pods`,
      ...this.#selector,
      resourceVersion: list.resourceVersion,
      onEvent: (type, obj) => {
        if (type !== 'DELETED') this.#ensureStreaming(podSummary(obj))
      },
      relist: () => this.#relistPods(),
      onError: (err) => this.#out.fail(err),
    }))
    this.#watches.push(watchLoop({
      kube: this.#kube,
      path: `/apis/${Workflows.group}/${Workflows.version}/namespaces/${ns}/${Workflows.plural}`,
      fieldSelector: `metadata.name=${this.#name}`,
      resourceVersion: wf.metadata.resourceVersion ?? '',
      onEvent: (type, obj) => {
        if (type === 'DELETED') this.#deleted()
        else if (COMPLETED_PHASES.has(phaseOf(obj))) void this.#completed()
      },
      relist: async () => {
        try {
          const now = await this.#kube.get(Workflows, this.#r.namespace, this.#name)
          if (COMPLETED_PHASES.has(phaseOf(now))) void this.#completed()
          return now.metadata.resourceVersion ?? ''
        } catch (err) {
          if (isNotFound(err)) this.#deleted()
          throw err
        }
      },
      onError: (err) => this.#out.fail(err),
    }))
  }

  async #relistPods(): Promise<string> {
    const list = await this.#kube.listPods(this.#r.namespace, this.#selector)
    for (const p of list.pods) this.#ensureStreaming(p)
    return list.resourceVersion
  }

  /** The workflow is fulfilled: no new pods will come; end once the ones started are drained. */
  async #completed(): Promise<void> {
    if (!this.#watches.length) return
    this.#stopWatches()
    // A last list catches pods whose start the pod watch had not reported yet when the workflow event came.
    try {
      await this.#relistPods()
    } catch (err) {
      this.#log(`logs of ${this.#r.namespace}/${this.#name}: final pod list failed`, err)
    }
    this.#merger.seal()
  }

  /** The workflow is gone (its pods go with it): end now rather than wait for their garbage collection. */
  #deleted(): void {
    this.#stop()
    this.#merger.seal()
  }

  #ensureStreaming(pod: PodSummary): void {
    // Pending pods have no log yet; they are picked up by a later event once they start (spec §2.8).
    if (this.#stopping || !pod.name || pod.phase === 'Pending') return
    const key = pod.uid || pod.name
    if (this.#streamed.has(key)) return
    this.#streamed.add(key)
    const merger = this.#merger
    const source = merger.add(pod.name)
    const { grep, timestamps } = this.#r
    // With grep, a chunk's lines are matched together (off the event loop) before the next chunk is read.
    let batch: LogLine[] = []
    const matchBatch = () => {
      if (!grep || !batch.length) return undefined
      const lines = batch
      batch = []
      return grep(lines.map((l) => l.content), this.#reads.signal).then((keep) => lines.forEach((l, i) => keep[i] && merger.push(source, l)))
    }
    let last: LogLine | undefined
    const sink = new LineSink((line, continued) => {
      const l = splitLine(line, timestamps, continued ? last?.stamp : undefined)
      last = l
      if (grep) batch.push(l)
      else merger.push(source, l)
    }, () => merger.full(source), matchBatch)
    source.onRoom = () => sink.resume()
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      merger.end(source)
    }
    sink.on('finish', end)
    sink.on('close', end)
    sink.on('error', (err) => {
      // A grep over its budget ends the whole stream, with its error: the client must not take the rest as complete.
      if (err instanceof ApiError && err.code === GrpcCode.ResourceExhausted) return this.#fail(err)
      if (!this.#stopping) this.#log(`logs of pod ${this.#r.namespace}/${pod.name}: ${err.message}`)
      end()
    })
    // timestamps are always asked for: they order the entries across pods (spec §2.8)
    const opts = { ...this.#r.pod, timestamps: true, follow: this.#r.follow }
    this.#kube.podLog(this.#r.namespace, pod.name, sink, opts, this.#reads.signal).catch((err: unknown) => {
      // as upstream: a pod whose log cannot be read (no such container, not yet scheduled…) is skipped
      if (!this.#stopping) this.#log(`logs of pod ${this.#r.namespace}/${pod.name}: ${(err as Error).message}`)
      end()
    })
  }

  #stopWatches(): void {
    for (const stop of this.#watches.splice(0)) stop()
  }

  #fail(err: ApiError): void {
    this.#stop()
    this.#merger.stop()
    this.#out.fail(err)
  }

  #stop(): void {
    this.#stopping = true
    this.#stopWatches()
    this.#reads.abort()
  }
}

function podSummary(obj: KubeObject): PodSummary {
  return { name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '', phase: phaseOf(obj) }
}
