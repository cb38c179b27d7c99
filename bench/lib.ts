import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** One GET over a keep-alive connection; resolves with the status once the whole body is read. */
function get(url: string, headers: Record<string, string>, agent: http.Agent): Promise<number> {
  const mod = url.startsWith('https:') ? https : http
  return new Promise((resolve, reject) => {
    mod.get(url, { headers, agent }, (res) => {
      res.on('data', () => {})
      res.on('end', () => resolve(res.statusCode ?? 0))
    }).on('error', reject)
  })
}

export type Latency = { p50: number; p99: number }

const summarize = (times: number[]): Latency => {
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), p99: percentile(times, 99) }
}

/** p50/p99 (ms) of `n` sequential calls of `fn`, after `warm` unmeasured ones. */
export async function timed(n: number, warm: number, fn: () => Promise<unknown>): Promise<Latency> {
  const [a] = await timedSideBySide(n, warm, [fn])
  return a as Latency
}

/**
 * p50/p99 (ms) of several operations measured side by side: one call of each per round, the order rotated every
 * round, so a ratio between them compares calls made under the same load on this noisy machine, not two phases.
 */
export async function timedSideBySide(n: number, warm: number, fns: readonly (() => Promise<unknown>)[]): Promise<Latency[]> {
  const times = fns.map((): number[] => [])
  for (let i = 0; i < n + warm; i++) {
    for (let j = 0; j < fns.length; j++) {
      const k = (i + j) % fns.length
      const t0 = performance.now()
      await (fns[k] as () => Promise<unknown>)()
      if (i >= warm) (times[k] as number[]).push(performance.now() - t0)
    }
  }
  return times.map(summarize)
}

/** A GET on one keep-alive connection, as a function to time; `close` frees the connection. */
export function getter(url: string, headers: Record<string, string>, opts: { ca?: string } = {}): { call: () => Promise<void>; close: () => void } {
  const agent = url.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: opts.ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    call: async () => {
      const status = await get(url, headers, agent)
      if (status !== 200) throw new Error(`${url}: ${status}`)
    },
    close: () => agent.destroy(),
  }
}

/** Latencies (ms) of `n` sequential GETs on one keep-alive connection, after `warm` unmeasured ones. */
export async function measure(url: string, headers: Record<string, string>, n: number, opts: { warm?: number; ca?: string } = {}): Promise<Latency> {
  const g = getter(url, headers, opts)
  try {
    return await timed(n, opts.warm ?? 20, g.call)
  } finally {
    g.close()
  }
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/**
 * RSS, V8's live bytes (heap used + external) and its young generation's committed size of a server from
 * startServerProcess right after a full GC, in MB.
 */
export async function afterGc(child: ChildProcess): Promise<{ rssMb: number; liveMb: number; youngMb: number }> {
  const live = new Promise<{ liveMb: number; youngMb: number }>((resolve) => {
    const on = (d: Buffer) => {
      const m = /gc done (\d+) (\d+)/.exec(d.toString())
      if (!m) return
      child.stdout?.off('data', on)
      resolve({ liveMb: Number(m[1]) / 1048576, youngMb: Number(m[2]) / 1048576 })
    }
    child.stdout?.on('data', on)
  })
  child.kill('SIGUSR2')
  const { liveMb, youngMb } = await live
  return { rssMb: rssMb(child.pid as number), liveMb, youngMb }
}

/** CPU time (user + system) a process has used so far, in ms (Linux; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Our server as users run it (the build, `npm start`), in its own process so its RSS is its own. */
export async function startServerProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. --cpu-prof to see where its time goes.
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, ['--expose-gc', '--require', './bench/gc-on-signal.cjs', ...extra, 'dist/main.js', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  // BENCH_SERVER_LOG: a file that gets the server's stdout (e.g. with BENCH_SERVER_NODE_ARGS=--trace-gc).
  if (process.env.BENCH_SERVER_LOG) child.stdout?.pipe(createWriteStream(process.env.BENCH_SERVER_LOG))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (\S+)/.exec(out)
      if (m) resolve((m[1] as string).replace('localhost', '127.0.0.1'))
    })
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)))
  })
  return { child, url }
}

export const fmt = (n: number) => n.toFixed(2)

/** The benchmark's many clients all come from 127.0.0.1: one client to the rate limit (spec §7.4), which is off. */
export const ONE_IP = ['--api-rate-limit', '0']
