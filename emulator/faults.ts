/** Fault injection rules and the request counter behind requestCount(). */
import type { FaultRule } from './types.js'

interface ActiveRule {
  rule: FaultRule
  remaining: number
}

export interface RequestInfo {
  method: string
  path: string
  watch: boolean
  /** the query string, without `?` */
  query: string
}

export class Faults {
  readonly #rules: ActiveRule[] = []
  /** counts by "METHOD watch path": bounded by distinct paths rather than by request volume */
  readonly #counts = new Map<string, { info: RequestInfo; n: number }>()
  #paused: { done: Promise<void>; resume: () => void } | undefined

  /** While paused, requests wait here before anything is done with them (see Emulator.pause). */
  get paused(): Promise<void> | undefined {
    return this.#paused?.done
  }

  pause(): () => void {
    if (!this.#paused) {
      let resume = () => {}
      const done = new Promise<void>((r) => { resume = r })
      this.#paused = { done, resume }
    }
    const p = this.#paused
    return () => {
      if (this.#paused !== p) return
      this.#paused = undefined
      p.resume()
    }
  }

  add(rule: FaultRule): () => void {
    const active = { rule, remaining: rule.times ?? 1 }
    this.#rules.push(active)
    return () => {
      const i = this.#rules.indexOf(active)
      if (i >= 0) this.#rules.splice(i, 1)
    }
  }

  /** The rule affecting this request, if any; consumes one of its `times`. */
  take(r: RequestInfo): FaultRule | undefined {
    for (let i = 0; i < this.#rules.length; i++) {
      const a = this.#rules[i] as ActiveRule
      const { rule } = a
      if (rule.method && rule.method.toUpperCase() !== r.method) continue
      if (rule.watch !== undefined && rule.watch !== r.watch) continue
      rule.path.lastIndex = 0
      if (!rule.path.test(r.path)) continue
      if (rule.query) {
        rule.query.lastIndex = 0
        if (!rule.query.test(r.query)) continue
      }
      a.remaining--
      if (a.remaining <= 0) this.#rules.splice(i, 1)
      return rule
    }
    return undefined
  }

  record(r: RequestInfo): void {
    const key = `${r.method} ${r.watch ? 1 : 0} ${r.path}`
    const c = this.#counts.get(key)
    if (c) c.n++
    else this.#counts.set(key, { info: r, n: 1 })
  }

  count(filter?: { method?: string; path?: RegExp; watch?: boolean }): number {
    let n = 0
    for (const { info, n: k } of this.#counts.values()) {
      if (filter?.method && filter.method.toUpperCase() !== info.method) continue
      if (filter?.watch !== undefined && filter.watch !== info.watch) continue
      if (filter?.path) {
        filter.path.lastIndex = 0
        if (!filter.path.test(info.path)) continue
      }
      n += k
    }
    return n
  }
}
