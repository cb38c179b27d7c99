import type { Emulator } from '../../emulator/types.js'
import type { Stack } from '../harness/stack.js'
import { aWorkflow } from '../harness/stack.js'

export const NS = 'argo'
export const PODS = { group: '', resource: 'pods', namespace: NS }
export const WORKFLOWS = { group: 'argoproj.io', resource: 'workflows', namespace: NS }

/** Creates a workflow through the API (so the server's store knows it at once, for @latest). */
export async function createWorkflow(stack: Stack, name: string): Promise<void> {
  const res = await stack.json(`/api/v1/workflows/${NS}`, { method: 'POST', json: { workflow: aWorkflow({ name }) } })
  if (res.status !== 200) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`)
}

/** A pod of `workflow` in the emulator, with a `main` container, in `phase`. */
export function createPod(em: Emulator, workflow: string, name: string, phase = 'Running', labels: Record<string, string> = {}): void {
  em.create(PODS, {
    metadata: { name, labels: { 'workflows.argoproj.io/workflow': workflow, ...labels } },
    spec: { containers: [{ name: 'main' }, { name: 'wait' }] },
    status: { phase },
  })
}

/** A Running workflow with Running pods `<name>-1`…; the first pod has logged `line` at `time`. */
export async function runningWorkflow(stack: Stack, name: string, pods: number, line: string, time: Date): Promise<void> {
  await createWorkflow(stack, name)
  stack.emulator.patch(WORKFLOWS, name, { status: { phase: 'Running' } })
  for (let i = 1; i <= pods; i++) createPod(stack.emulator, name, `${name}-${i}`)
  stack.emulator.appendPodLog(NS, `${name}-1`, 'main', line, time)
}

/** The `result`s of an NDJSON log stream, read to its end. */
export async function readEntries(stack: Stack, path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: string; results: Record<string, unknown>[] }> {
  const res = await stack.req(path, init)
  const body = await res.text()
  const results = body.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { result: Record<string, unknown> }).result)
  return { status: res.status, body, results }
}

/** Reads a streaming response chunk by chunk until `until(text so far)` holds; returns the text and the reader. */
export async function readUntil(res: Response, until: (text: string) => boolean): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!until(text)) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`stream ended before the condition held: ${JSON.stringify(text)}`)
    text += decoder.decode(value, { stream: true })
  }
  return { text, reader }
}

/** Polls `cond` every few milliseconds until it holds (no fixed sleeps, no timing assertions). */
export async function eventually(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const at = (iso: string): Date => new Date(iso)
