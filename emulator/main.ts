/**
 * CLI: node --import tsx emulator/main.ts [--port 6443] [--host 127.0.0.1] [--tls] [--kubeconfig-out path] [--namespace ns]...
 * Prints the URL and the admin token, then serves until interrupted.
 */
import { parseArgs } from 'node:util'
import { startEmulator } from './index.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6443' },
    host: { type: 'string', default: '127.0.0.1' },
    tls: { type: 'boolean', default: false },
    'kubeconfig-out': { type: 'string' },
    namespace: { type: 'string', multiple: true },
  },
})

const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${values.port}`)
  process.exit(2)
}

const emulator = await startEmulator({
  host: values.host,
  port,
  tls: values.tls,
  namespaces: values.namespace ?? ['default', 'argo'],
})
console.log(`Kubernetes API emulator listening on ${emulator.url}`)
console.log(`admin token: ${emulator.adminToken}`)
const out = values['kubeconfig-out']
if (out) console.log(`kubeconfig written to ${await emulator.writeKubeconfig(out)}`)

const stop = (): void => {
  emulator.close().then(() => process.exit(0), () => process.exit(1))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
