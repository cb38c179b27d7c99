import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { ConfigError, parseConfig, withSandboxDefaults } from '../../src/config/parse.js'

test('flags have upstream defaults and read ARGO_* variables, flags winning', () => {
  const c = parseConfig([], {})
  assert.equal(c.port, 2746)
  assert.equal(c.secure, true)
  assert.deepEqual([...c.modes], ['client'])
  assert.equal(c.baseHref, '/')
  const e = parseConfig(['--port=9000', '--secure=false'], { ARGO_PORT: '8000', ARGO_AUTH_MODE: 'server client', ARGO_BASE_HREF: '/argo/', DATABASE_URL: 'postgres://x' })
  assert.equal(e.port, 9000)
  assert.equal(e.secure, false)
  assert.deepEqual([...e.modes].sort(), ['client', 'server'])
  assert.equal(e.baseHref, '/argo/')
  assert.equal(e.databaseUrl, 'postgres://x')
  const h = parseConfig(['--auth-mode', 'hybrid', '-p', '1', '-e'], {})
  assert.deepEqual([...h.modes].sort(), ['client', 'server'])
  assert.equal(h.port, 1)
  assert.equal(h.secure, true)
})

test('bad values are one ConfigError each', () => {
  for (const argv of [['--port', 'abc'], ['--secure=maybe'], ['--auth-mode', 'magic'], ['--nope'], ['--base-href', 'x'], ['--port']]) {
    assert.throws(() => parseConfig(argv, {}), ConfigError, argv.join(' '))
  }
  assert.throws(() => parseConfig([], { ARGO_PORT: '-1' }), ConfigError)
})

test('the sandbox changes defaults only', () => {
  const s = withSandboxDefaults(parseConfig([], {}))
  assert.equal(s.secure, false)
  assert.deepEqual([...s.modes], ['server'])
  assert.equal(s.host, '127.0.0.1')
  const kept = withSandboxDefaults(parseConfig(['--secure', '--auth-mode=client'], {}))
  assert.equal(kept.secure, true)
  assert.deepEqual([...kept.modes], ['client'])
})

test('the CLI exits 2 with one line on a bad flag', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--port', 'abc'], { encoding: 'utf8' })
  assert.equal(r.status, 2)
  assert.equal(r.stderr.trim().split('\n').length, 1)
  assert.match(r.stderr, /--port/)
})
