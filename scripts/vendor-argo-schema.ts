// Regenerates the vendored Argo schema and its precompiled validators:
//   src/lib/argo-schema/argo.schema.json       (reachable subset of upstream's schema)
//   src/lib/argo-schema/argo.validators.js     (Ajv standalone code for it)
//   src/lib/argo-schema/argo.validators.d.ts
// Usage: node --import tsx scripts/vendor-argo-schema.ts [path/to/jsonschema.json]
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { VALIDATORS_DTS, generateValidatorsModule } from './argo-schema/codegen.js'
import { serializeVendored, vendorArgoSchema } from './argo-schema/vendor.js'

const source = process.argv[2] ?? fileURLToPath(new URL('../../shared/argo/jsonschema.json', import.meta.url))
const dir = new URL('../src/lib/argo-schema/', import.meta.url)

function write(name: string, text: string): void {
  const target = fileURLToPath(new URL(name, dir))
  writeFileSync(target, text)
  console.log(`wrote ${target} (${text.length} bytes)`)
}

const vendored = vendorArgoSchema(JSON.parse(readFileSync(source, 'utf8')))
write('argo.schema.json', serializeVendored(vendored))
const started = performance.now()
write('argo.validators.js', generateValidatorsModule(vendored))
write('argo.validators.d.ts', VALIDATORS_DTS)
console.log(`${Object.keys(vendored.definitions).length} definitions; standalone codegen took ${(performance.now() - started).toFixed(0)} ms`)
