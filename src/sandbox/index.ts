import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { startEmulator } from '../../emulator/index.js'
import { startRunner } from '../../emulator/runner.js'
import { startLocalPostgres } from './postgres.js'

export interface Sandbox {
  kubeconfigPath: string
  databaseUrl: string
  stop(): Promise<void>
}

/**
 * The zero-config local cluster: the project's Kubernetes API emulator, embedded Postgres and a simulated
 * workflow runner, all on loopback. Only this folder (and test/) knows the emulator exists.
 */
export async function startSandbox(opts: { dir: string; log: (msg: string) => void; stepMs?: number }): Promise<Sandbox> {
  const dir = resolve(opts.dir)
  await mkdir(dir, { recursive: true })
  const emulator = await startEmulator({ host: '127.0.0.1', namespaces: ['default', 'argo'], tls: true })
  const kubeconfigPath = await emulator.writeKubeconfig(join(dir, 'kubeconfig'), undefined, 'argo')
  const runner = startRunner(emulator, { stepMs: opts.stepMs ?? 1000 })
  const pg = await startLocalPostgres(join(dir, 'postgres'))
  opts.log([
    'Sandbox: no Kubernetes cluster is configured, so a local one was started (loopback only):',
    `  Kubernetes API emulator  ${emulator.url}  (kubeconfig: ${kubeconfigPath}; namespaces default, argo)`,
    `  simulated runner         moves submitted workflows Pending -> Running -> Succeeded/Failed, with pods and logs`,
    `  PostgreSQL (embedded)    ${pg.url.replace(/:[^:@/]+@/, ':***@')}  (data in ${join(dir, 'postgres')})`,
  ].join('\n'))
  return {
    kubeconfigPath,
    databaseUrl: pg.url,
    async stop() {
      await runner.stop()
      await emulator.close()
      await pg.stop()
    },
  }
}
