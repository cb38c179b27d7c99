import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Latencies (ms) of `n` sequential GETs, after `warm` unmeasured ones. */
export async function measure(url: string, headers: Record<string, string>, n: number, warm = 20): Promise<{ p50: number; p99: number }> {
  const times: number[] = []
  for (let i = 0; i < n + warm; i++) {
    const t0 = performance.now()
    const res = await fetch(url, { headers })
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`)
    if (i >= warm) times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), p99: percentile(times, 99) }
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** Our server as a separate process, so its RSS is its own. Resolves once it listens. */
export async function startServerProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
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
