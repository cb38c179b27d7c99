/**
 * Frames of snapshot items shared by the clients that connect at about the same time: when a server restarts, a
 * dashboard's whole audience reconnects at once, and each client's snapshot would otherwise build (and hold in its
 * socket's queue) its own copy of every workflow. Keyed by the item itself (the caches' entries are immutable, a
 * change replaces them), so a frame can never be stale, only unused.
 *
 * Bounded both ways: a generation lasts `lifetimeMs` and holds at most `budgetBytes`, then a new one starts. The
 * old one is collected once the sockets that still queue its frames have written them.
 */
export class SharedFrames {
  readonly #budgetBytes: number
  readonly #lifetimeMs: number
  #frames = new WeakMap<object, Map<string, Buffer>>()
  #bytes = 0
  #timer: NodeJS.Timeout | undefined

  constructor(budgetBytes: number, lifetimeMs: number) {
    this.#budgetBytes = budgetBytes
    this.#lifetimeMs = lifetimeMs
  }

  /** The frames built so far for `item`, by framing (see EventStream), to read and add to. */
  of(item: object): Map<string, Buffer> {
    let frames = this.#frames.get(item)
    if (!frames) {
      frames = new Map()
      this.#frames.set(item, frames)
    }
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.#reset(), this.#lifetimeMs)
      this.#timer.unref()
    }
    return frames
  }

  /** Counts a frame just added to a map from `of`; past the budget the generation ends. */
  added(bytes: number): void {
    this.#bytes += bytes
    if (this.#bytes > this.#budgetBytes) this.#reset()
  }

  #reset(): void {
    this.#frames = new WeakMap()
    this.#bytes = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
