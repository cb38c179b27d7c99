import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { generateOpenApi } from '../../src/openapi.js'

type Spec = { paths: Record<string, Record<string, { operationId?: string; tags?: string[]; parameters?: { name: string; in: string }[] }>> }

/** Our extensions (README): operations tagged so, and the request headers of create/submit. */
const EXTENSION_TAG = 'Extensions'
const extensionHeaders = new Set(['header:idempotency-key', 'header:prefer'])

test('openapi/openapi.json is what the routes generate (run npm run openapi)', async () => {
  const committed = JSON.parse(await readFile(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as unknown
  assert.deepEqual(committed, JSON.parse(JSON.stringify(await generateOpenApi())))
})

test("every operation we serve has upstream's path, method, operationId and parameter names", async () => {
  const ours = (await generateOpenApi()) as Spec
  const upstream = JSON.parse(await readFile(new URL('../../../shared/argo/swagger.json', import.meta.url), 'utf8')) as Spec
  let checked = 0
  for (const [path, ops] of Object.entries(ours.paths)) {
    if (!path.startsWith('/api/')) continue
    for (const [method, op] of Object.entries(ops)) {
      if (op.tags?.includes(EXTENSION_TAG)) continue
      const theirs = upstream.paths[path]?.[method]
      assert.ok(theirs, `${method.toUpperCase()} ${path} exists upstream`)
      assert.equal(op.operationId, theirs.operationId, `${method} ${path} operationId`)
      const names = (o: typeof op) => (o.parameters ?? []).filter((p) => p.in !== 'body').map((p) => `${p.in}:${p.name}`).filter((n) => !extensionHeaders.has(n)).sort()
      assert.deepEqual(names(op), names(theirs), `${method} ${path} parameters`)
      checked++
    }
  }
  assert.ok(checked >= 8, `checked ${checked} operations`)
})
