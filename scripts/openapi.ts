// Writes openapi/openapi.json from the routes' schemas (test/conformance/openapi.test.ts fails when it is stale).
import { writeFile } from 'node:fs/promises'
import { generateOpenApi } from '../src/openapi.js'

const spec = await generateOpenApi()
await writeFile(new URL('../openapi/openapi.json', import.meta.url), `${JSON.stringify(spec, null, 2)}\n`)
console.log('wrote openapi/openapi.json')
