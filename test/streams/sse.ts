/** One event as a browser's EventSource dispatches it. */
export interface SseEvent {
  /** the `id:` field of this event's own block, if it had one */
  id?: string
  /** the last event ID string after this event: what EventSource sends as Last-Event-ID on reconnecting */
  lastEventId: string
  data: string
}

/**
 * The event stream interpretation of WHATWG HTML §9.2.6, for the complete lines of `raw`: lines split on CR, LF or
 * CRLF; comments skipped; `field: value` with one leading space dropped; data lines joined with LF; an id with NUL
 * ignored; an event dispatched at a blank line only if it has data, while its id still sets the last event ID.
 */
export function sseEvents(raw: string): SseEvent[] {
  const lines = raw.split(/\r\n|\r|\n/)
  lines.pop() // incomplete, or the empty piece after the last newline
  const events: SseEvent[] = []
  let lastEventId = ''
  let id: string | undefined
  let data: string[] = []
  for (const line of lines) {
    if (line === '') {
      if (data.length) events.push({ id, lastEventId, data: data.join('\n') })
      data = []
      id = undefined
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\0')) lastEventId = id = value
  }
  return events
}

/** A watch event from a `data:` payload (`{"result":{"type":…,"object":…}} `), summarized for assertions. */
export interface WatchFrame {
  id?: string
  type?: string
  name?: string
  uid?: string
  resourceVersion?: string
  labels?: Record<string, string>
  result: Record<string, unknown>
}

interface WatchResult { type?: string; object?: { metadata?: { name?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> } } }

export function watchFrame(json: string, id?: string): WatchFrame {
  const result = (JSON.parse(json) as { result: Record<string, unknown> }).result
  const { type, object } = result as WatchResult
  const md = object?.metadata ?? {}
  return { id, type, name: md.name, uid: md.uid, resourceVersion: md.resourceVersion, labels: md.labels, result }
}

/** The SSE stream's watch events with their ids. */
export function sseWatchFrames(raw: string): WatchFrame[] {
  return sseEvents(raw).map((e) => watchFrame(e.data, e.id))
}

/** `TYPE name@id` strings, for compact assertions. */
export const brief = (frames: WatchFrame[]): string[] => frames.map((f) => `${f.type} ${f.name}${f.id ? `@${f.id}` : ''}`)
