import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { KubeClient, LeaseRecord } from '../kube/client.js'
import { GrpcCode, hasCode } from '../http/errors.js'

export interface LeaseOptions {
  namespace: string
  name: string
  durationSeconds: number
  /** how often the holder renews, and others retry: a third of the duration by default, as client-go */
  retryMs?: number
  log: (msg: string) => void
  onChange: (leader: boolean) => void
  /** called when the election starts to work (see `working`), at start or after it failed */
  onWorking?: () => void
}

/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection: the holder renews every
 * `retryMs`; anyone may take the Lease once it has not changed for `leaseDurationSeconds` by its own clock (client-go's
 * observedTime: the holder's renewTime is another machine's clock, and a replica whose clock ran ahead took the
 * Lease from a live holder, one running behind waited for minutes after the holder died). Every write is a replace
 * at the read resourceVersion, so two candidates racing for an expired Lease cannot both win. A holder that cannot
 * renew within the duration steps down by itself, before anyone else may take over.
 */
export class LeaseElector {
  readonly identity = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  readonly #kube: KubeClient
  readonly #o: LeaseOptions
  #leader = false
  #renewedAt = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  #worked = false
  /** the Lease as last read (its resourceVersion), and when by this clock it was first seen so */
  #observed: { version: string; at: number } | undefined

  constructor(kube: KubeClient, opts: LeaseOptions) {
    this.#kube = kube
    this.#o = opts
  }

  get leader(): boolean {
    return this.#leader
  }

  /** Whether the election works: the last attempt read the Lease and, if it tried, wrote it (or lost a race). */
  get working(): boolean {
    return this.#worked
  }

  start(): void {
    void this.#tick()
  }

  /** Stops campaigning; a holder releases the Lease (renewTime in the past) so a successor need not wait. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    if (!this.#leader) return
    this.#set(false)
    try {
      const cur = await this.#kube.getLease(this.#o.namespace, this.#o.name)
      if (cur?.holderIdentity === this.identity) {
        await this.#kube.writeLease(this.#o.namespace, this.#o.name, { ...cur, holderIdentity: '', renewTime: 1000, leaseDurationSeconds: 1 })
      }
    } catch {
      // the Lease expires by itself
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return
    try {
      await this.#attempt()
      if (!this.#worked) {
        this.#worked = true
        this.#o.onWorking?.()
      }
    } catch (err) {
      this.#worked = false
      this.#o.log(`archive lease ${this.#o.namespace}/${this.#o.name}: ${(err as Error).message}`)
    }
    // Not renewed for most of a duration: step down before another replica may take over (renewTime + duration).
    if (this.#leader && Date.now() - this.#renewedAt > this.#o.durationSeconds * 800) this.#set(false)
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#o.retryMs ?? Math.max(200, this.#o.durationSeconds * 333))
  }

  async #attempt(): Promise<void> {
    const { namespace, name, durationSeconds } = this.#o
    const now = Date.now()
    const cur = await this.#kube.getLease(namespace, name)
    const mine = cur?.holderIdentity === this.identity
    const version = cur ? cur.resourceVersion ?? JSON.stringify(cur) : ''
    if (this.#observed?.version !== version) this.#observed = { version, at: now }
    const expired = !cur || !cur.holderIdentity || this.#observed.at + cur.leaseDurationSeconds * 1000 < now
    if (!mine && !expired) {
      if (this.#leader) this.#set(false)
      return
    }
    const next: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: mine && cur ? cur.acquireTime : now,
      renewTime: now,
      leaseTransitions: (cur?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      resourceVersion: cur?.resourceVersion,
    }
    try {
      await this.#kube.writeLease(namespace, name, next)
    } catch (err) {
      // 409/AlreadyExists: another candidate wrote first; it leads.
      if (hasCode(err, GrpcCode.AlreadyExists)) {
        if (this.#leader) this.#set(false)
        return
      }
      throw err
    }
    this.#renewedAt = now
    if (!this.#leader) {
      this.#o.log(`archive lease ${namespace}/${name}: acquired by ${this.identity}`)
      this.#set(true)
    }
  }

  #set(leader: boolean): void {
    if (this.#leader === leader) return
    this.#leader = leader
    this.#o.onChange(leader)
  }
}
