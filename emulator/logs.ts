/** Container logs (what the kubelet would capture) and the pods/log subresource, including follow. */
import type { ServerResponse } from 'node:http'
import type { Entry, Store } from './store.js'
import { objectKey, parseJson } from './store.js'
import { errors } from './status.js'

interface LogLine {
  time: Date
  text: string
}

interface Follower {
  container: string
  write(line: LogLine): void
  end(): void
}

const TERMINAL = new Set(['Succeeded', 'Failed'])

/** RFC3339 with nanoseconds, as the kubelet prefixes lines with timestamps=true. */
function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')
}

function names(v: unknown): string[] {
  if (!Array.isArray(v)) return []
  return v.map((c: unknown) => (typeof c === 'object' && c !== null ? (c as Record<string, unknown>).name : undefined)).filter((n): n is string => typeof n === 'string')
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`${name}: Invalid value: "${v}": must be an integer`)
  return Number(v)
}

type Rec = Record<string, unknown>
const rec = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/**
 * Why the kubelet will not serve this container's log, as it words it (pkg/kubelet/kubelet_pods.go
 * validateContainerLogStatus; the apiserver relays it as a 400): a container that has not started has no log, nor a
 * previous one that never ran. Only for pods whose status lists their containers (as a kubelet writes it, and the
 * runner does); a pod a test stored without container statuses is served as it is.
 */
function kubeletRefusal(status: unknown, container: string, pod: string, previous: boolean): string | undefined {
  const s = rec(status)
  if (!s || !Array.isArray(s.containerStatuses)) return undefined
  const all = [s.containerStatuses, s.initContainerStatuses, s.ephemeralContainerStatuses].flatMap((l) => (Array.isArray(l) ? l : []))
  const cs = all.map(rec).find((c) => c !== undefined && c.name === container)
  const id = `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)}`
  if (!cs) return `${id} is not available`
  const state = rec(cs.state) ?? {}
  const last = rec(rec(cs.lastState)?.terminated)
  const waiting = rec(state.waiting)
  const terminated = rec(state.terminated)
  if (previous) return last && str(last.containerID) ? undefined : `previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} not found`
  if (state.running !== undefined && state.running !== null) return undefined
  if (terminated) return str(terminated.containerID) || (last && str(last.containerID)) ? undefined : `${id} is terminated`
  if (last) return str(last.containerID) ? undefined : `${id} is terminated`
  if (waiting) {
    const reason = str(waiting.reason)
    if (reason === 'ErrImagePull') return `${id} is waiting to start: image can't be pulled`
    if (reason === 'ImagePullBackOff') return `${id} is waiting to start: trying and failing to pull image`
    return `${id} is waiting to start: ${reason}`
  }
  return `${id} is waiting to start - no logs yet`
}

export class PodLogs {
  readonly #logs = new Map<string, Map<string, LogLine[]>>()
  readonly #followers = new Map<string, Set<Follower>>()
  /** what followers are sent while paused, in order (Emulator.pause) */
  #held: (() => void)[] | undefined

  constructor(store: Store) {
    store.onEvent((ev) => {
      if (ev.res.group !== '' || ev.res.resource !== 'pods') return
      const key = ev.entry.key
      if (ev.type === 'DELETED') {
        this.#endFollowers(key)
        this.#logs.delete(key)
      } else if (TERMINAL.has(ev.entry.fields['status.phase'] ?? '')) {
        this.#endFollowers(key)
      }
    })
  }

  append(namespace: string, pod: string, container: string, line: string, time = new Date()): void {
    const key = objectKey(namespace, pod)
    let byContainer = this.#logs.get(key)
    if (!byContainer) {
      byContainer = new Map()
      this.#logs.set(key, byContainer)
    }
    let lines = byContainer.get(container)
    if (!lines) {
      lines = []
      byContainer.set(container, lines)
    }
    const texts = line.endsWith('\n') ? line.slice(0, -1).split('\n') : line.split('\n')
    for (const text of texts) {
      const l = { time, text }
      lines.push(l)
      for (const f of this.#followers.get(key) ?? []) if (f.container === container) this.#send(() => f.write(l))
    }
  }

  #endFollowers(key: string): void {
    const set = this.#followers.get(key)
    if (!set) return
    this.#followers.delete(key)
    for (const f of set) this.#send(() => f.end())
  }

  /** Followed logs send nothing until the returned function is called, then everything held (Emulator.pause). */
  pause(): () => void {
    this.#held ??= []
    return () => {
      const held = this.#held ?? []
      this.#held = undefined
      for (const send of held) send()
    }
  }

  #send(fn: () => void): void {
    if (this.#held) this.#held.push(fn)
    else fn()
  }

  /** Answers GET pods/{name}/log for an existing pod. */
  serve(pod: Entry, q: URLSearchParams, resp: ServerResponse): void {
    const obj = parseJson(pod.json)
    const spec = (typeof obj.spec === 'object' && obj.spec !== null ? obj.spec : {}) as Record<string, unknown>
    const containers = names(spec.containers)
    const inits = names(spec.initContainers)
    const all = [...containers, ...inits, ...names(spec.ephemeralContainers)]
    const logged = [...(this.#logs.get(pod.key)?.keys() ?? [])]
    let container = q.get('container') ?? ''
    if (!container) {
      const candidates = containers.length > 0 ? containers : logged
      if (candidates.length === 1) container = candidates[0] as string
      else if (candidates.length > 1) {
        const initPart = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : ''
        throw errors.badRequest(`a container name must be specified for pod ${pod.name}, choose one of: [${candidates.join(' ')}]${initPart}`)
      } else throw errors.badRequest(`a container name must be specified for pod ${pod.name}`)
    } else if (all.length > 0 && !all.includes(container)) {
      throw errors.badRequest(`container ${container} is not valid for pod ${pod.name}`)
    }
    const unreadable = kubeletRefusal(obj.status, container, pod.name, ['true', '1'].includes(q.get('previous') ?? ''))
    if (unreadable) throw errors.badRequest(unreadable)
    const tail = intParam(q, 'tailLines')
    const sinceSeconds = intParam(q, 'sinceSeconds')
    let limit = intParam(q, 'limitBytes') ?? Infinity
    const sinceTimeRaw = q.get('sinceTime')
    const sinceTime = sinceTimeRaw ? Date.parse(sinceTimeRaw) : undefined
    if (sinceTime !== undefined && Number.isNaN(sinceTime)) throw errors.badRequest(`sinceTime: Invalid value: "${sinceTimeRaw}": must be RFC3339`)
    const timestamps = q.get('timestamps') === 'true' || q.get('timestamps') === '1'
    const follow = q.get('follow') === 'true' || q.get('follow') === '1'

    let lines = this.#logs.get(pod.key)?.get(container) ?? []
    const cutoff = Math.max(sinceTime ?? -Infinity, sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : -Infinity)
    if (cutoff > -Infinity) lines = lines.filter((l) => l.time.getTime() >= cutoff)
    if (tail !== undefined && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail)

    resp.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' })
    let done = false
    const write = (l: LogLine): void => {
      if (done) return
      let s = `${timestamps ? `${rfc3339Nano(l.time)} ` : ''}${l.text}\n`
      const buf = Buffer.from(s)
      if (buf.length >= limit) {
        s = buf.subarray(0, limit).toString()
        limit = 0
      } else {
        limit -= buf.length
      }
      if (s) resp.write(s)
      if (limit <= 0) finish()
    }
    const follower: Follower = { container, write, end: () => finish() }
    const finish = (): void => {
      if (done) return
      done = true
      this.#followers.get(pod.key)?.delete(follower)
      resp.end()
    }
    for (const l of lines) write(l)
    if (done) return
    if (!follow || TERMINAL.has(pod.fields['status.phase'] ?? '')) return finish()
    let set = this.#followers.get(pod.key)
    if (!set) {
      set = new Set()
      this.#followers.set(pod.key, set)
    }
    set.add(follower)
    resp.on('close', () => {
      done = true
      this.#followers.get(pod.key)?.delete(follower)
    })
  }
}
