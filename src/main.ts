import { ConfigError, helpText, parseConfig, withSandboxDefaults } from './config/parse.js'
import type { Config } from './config/schema.js'
import { findKubeSource, type KubeSource } from './kube/config.js'

/** `argo-server [flags]`: parse once, maybe start the sandbox, serve. A bad flag is one line and exit code 2. */
async function main(): Promise<void> {
  let config: Config
  try {
    config = parseConfig(process.argv.slice(2), process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      if (err.message === 'help') {
        console.log(helpText())
        process.exit(0)
      }
      console.error(`argo-server: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
  let source: KubeSource | undefined = config.sandbox ? undefined : findKubeSource({
    kubeconfig: config.kubeconfig, kubeconfigEnv: config.env.kubeconfigEnv, home: config.env.home, inCluster: config.env.inCluster,
  })
  let stopSandbox: (() => Promise<void>) | undefined
  if (!source) {
    config = withSandboxDefaults(config)
    const { startSandbox } = await import('./sandbox/index.js')
    const sandbox = await startSandbox({ dir: config.sandboxDir, log: (m: string) => console.log(m) })
    source = { kind: 'file', path: sandbox.kubeconfigPath }
    stopSandbox = sandbox.stop
    if (!config.databaseUrl) config = Object.freeze({ ...config, databaseUrl: sandbox.databaseUrl })
  }
  // Loaded after the flags are parsed, so a bad flag or --help answers at once.
  const { createServer } = await import('./server.js')
  const server = await createServer(config, source)
  const address = await server.app.listen({ port: config.port, host: config.host || '::' })
  console.log(`argo-server listening on ${address.replace('[::]', 'localhost')} (${config.secure ? 'TLS, self-signed' : 'plain HTTP'}; auth mode ${[...config.modes].join(', ')})`)
  if (stopSandbox) console.log(`Try: curl -s ${address.replace('[::]', 'localhost')}/api/v1/workflows/argo`)
  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    console.log(`${signal}: shutting down`)
    await server.close()
    await stopSandbox?.()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((err: unknown) => {
  console.error(`argo-server: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
