import { Watch, type KubeConfig } from '@kubernetes/client-node'
import type { KubeList, KubeObject, ListParams } from './resources.js'

/** Where an informer lists and watches: one resource in one namespace or all (KubeClient.listSource). */
export interface ListSource {
  readonly kubeConfig: KubeConfig
  list(p: ListParams): Promise<KubeList>
  readonly watchPath: string
  readonly what: string
}

export type InformerEvent = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface InformerHandler {
  /**
   * A full list replaces what the informer knew (at start and after a 410): `syncPage` is called with each page
   * as it arrives, so no more than one page of parsed objects is held at a time, then `endSync`.
   */
  beginSync(): void
  syncPage(objects: KubeObject[]): void
  endSync(resourceVersion: string): void
  onEvent(type: InformerEvent, obj: KubeObject, resourceVersion: string): void
}

export interface InformerOptions {
  pageSize?: number
  /** watch timeout asked of the apiserver, so watches are renewed periodically */
  watchTimeoutSeconds?: number
  log?: (msg: string, err?: unknown) => void
  /** told of every failed attempt, and of the recovery (`undefined`) */
  onHealth?: (error: Error | undefined) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * One list-then-watch loop over a resource with the server's own credentials, as client-go's reflector:
 * resumes from the last seen resourceVersion when a watch ends, re-lists on 410 Gone, backs off on errors.
 */
export class Informer {
  readonly #source: ListSource
  readonly #handler: InformerHandler
  readonly #opts: Required<Omit<InformerOptions, 'log' | 'onHealth'>> & Pick<InformerOptions, 'log' | 'onHealth'>
  #rv = ''
  #stopped = false
  #abort: AbortController | undefined
  #synced: Promise<void>
  #resolveSynced!: () => void
  #failingSince = 0

  constructor(source: ListSource, handler: InformerHandler, opts: InformerOptions = {}) {
    this.#source = source
    this.#handler = handler
    this.#opts = { pageSize: opts.pageSize ?? 500, watchTimeoutSeconds: opts.watchTimeoutSeconds ?? 300, log: opts.log, onHealth: opts.onHealth }
    this.#synced = new Promise((r) => { this.#resolveSynced = r })
  }

  /** Resolves once the first full list has been delivered. */
  get synced(): Promise<void> {
    return this.#synced
  }

  get resourceVersion(): string {
    return this.#rv
  }

  start(): void {
    void this.#run()
  }

  stop(): void {
    this.#stopped = true
    this.#abort?.abort()
  }

  async #list(): Promise<void> {
    let cont: string | undefined
    let rv = ''
    this.#handler.beginSync()
    do {
      const page = await this.#source.list({ limit: this.#opts.pageSize, continue: cont })
      this.#handler.syncPage(page.items)
      rv = page.metadata.resourceVersion ?? rv
      cont = page.metadata.continue || undefined
    } while (cont)
    this.#rv = rv
    this.#handler.endSync(rv)
    this.#healthy()
    this.#resolveSynced()
  }

  async #run(): Promise<void> {
    let backoff = 200
    let needList = true
    while (!this.#stopped) {
      try {
        if (needList) {
          await this.#list()
          needList = false
        }
        const outcome = await this.#watchOnce()
        if (outcome === 'gone') needList = true
        backoff = 200
      } catch (err) {
        this.#unhealthy(err)
        this.#opts.log?.(`watch of ${this.#source.what} failed; retrying in ${backoff} ms`, err)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 10_000)
      }
    }
  }

  #watchOnce(): Promise<'closed' | 'gone'> {
    return new Promise((resolve, reject) => {
      let gone = false
      let ended = false
      const watch = new Watch(this.#source.kubeConfig)
      watch.watch(this.#source.watchPath, {
        resourceVersion: this.#rv, allowWatchBookmarks: true, timeoutSeconds: this.#opts.watchTimeoutSeconds,
      }, (type: string, obj: KubeObject) => {
        const rv = obj?.metadata?.resourceVersion
        if (type === 'ERROR') {
          const code = (obj as { code?: number }).code
          if (code === 410) gone = true
          return
        }
        if (rv) this.#rv = rv
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.#handler.onEvent(type, obj, this.#rv)
      }, (err: unknown) => {
        ended = true
        this.#abort = undefined
        if (gone) resolve('gone')
        else if (err && !this.#stopped && !isAbort(err)) reject(err instanceof Error ? err : new Error(String(err)))
        else resolve('closed')
      }).then((ac) => {
        this.#abort = ac
        // client-node resolves even when the watch was refused (it has called `done` first): not healthy then.
        if (!ended) this.#healthy()
        if (this.#stopped) ac.abort()
      }, reject)
    })
  }

  #healthy(): void {
    if (this.#failingSince) this.#opts.onHealth?.(undefined)
    this.#failingSince = 0
  }

  #unhealthy(err: unknown): void {
    if (!this.#failingSince) this.#failingSince = Date.now()
    this.#opts.onHealth?.(err instanceof Error ? err : new Error(String(err)))
  }
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string }).name === 'AbortError'
}
