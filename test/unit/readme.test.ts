import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { flagDefs } from '../../src/config/schema.js'

test('the README configuration table lists every flag with its ARGO_ variable', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  for (const name of Object.keys(flagDefs)) {
    assert.ok(readme.includes(`\`--${name}\``), `--${name} is documented`)
    assert.ok(readme.includes(`\`ARGO_${name.toUpperCase().replace(/-/g, '_')}\``), `ARGO_ variable of --${name} is documented`)
  }
})
