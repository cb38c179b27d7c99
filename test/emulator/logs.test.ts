import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startEmulator } from '../../emulator/index.js'
import type { Emulator } from '../../emulator/index.js'
import { call } from './helpers.js'

let emu: Emulator
const PODS = { group: '', resource: 'pods', namespace: 'argo' }
const LOG = '/api/v1/namespaces/argo/pods'
before(async () => {
  emu = await startEmulator({ namespaces: ['argo'] })
  emu.create(PODS, { metadata: { name: 'one' }, spec: { containers: [{ name: 'main' }] }, status: { phase: 'Running' } })
  emu.create(PODS, { metadata: { name: 'two' }, spec: { containers: [{ name: 'main' }, { name: 'wait' }], initContainers: [{ name: 'init' }] }, status: { phase: 'Running' } })
  const t0 = Date.parse('2024-01-02T03:04:05.678Z')
  for (let i = 1; i <= 5; i++) emu.appendPodLog('argo', 'one', 'main', `line ${i}`, new Date(t0 + i * 1000))
  emu.appendPodLog('argo', 'two', 'main', 'main says hi')
  emu.appendPodLog('argo', 'two', 'wait', 'wait says hi')
})
after(() => emu.close())

test('plain logs of the only container, text/plain', async () => {
  const r = await call(emu, 'GET', `${LOG}/one/log`)
  assert.equal(r.status, 200)
  assert.match(String(r.headers.get('content-type')), /^text\/plain/)
  assert.equal(r.text, 'line 1\nline 2\nline 3\nline 4\nline 5\n')
})

test('tailLines, timestamps, sinceTime, limitBytes', async () => {
  assert.equal((await call(emu, 'GET', `${LOG}/one/log?tailLines=2`)).text, 'line 4\nline 5\n')
  assert.equal((await call(emu, 'GET', `${LOG}/one/log?tailLines=1&timestamps=true`)).text, '2024-01-02T03:04:10.678000000Z line 5\n')
  assert.equal((await call(emu, 'GET', `${LOG}/one/log?sinceTime=2024-01-02T03:04:09Z`)).text, 'line 4\nline 5\n')
  assert.equal((await call(emu, 'GET', `${LOG}/one/log?limitBytes=10`)).text, 'line 1\nlin')
  assert.equal((await call(emu, 'GET', `${LOG}/one/log?sinceSeconds=5`)).text, '')
})

test('a pod with several containers needs ?container=', async () => {
  const r = await call(emu, 'GET', `${LOG}/two/log`)
  assert.equal(r.status, 400)
  assert.equal(r.json.message, 'a container name must be specified for pod two, choose one of: [main wait] or one of the init containers: [init]')
  assert.equal((await call(emu, 'GET', `${LOG}/two/log?container=wait`)).text, 'wait says hi\n')
  const bad = await call(emu, 'GET', `${LOG}/two/log?container=nope`)
  assert.equal(bad.status, 400)
  assert.equal(bad.json.message, 'container nope is not valid for pod two')
})

test('a missing pod → 404', async () => {
  const r = await call(emu, 'GET', `${LOG}/ghost/log`)
  assert.equal(r.status, 404)
  assert.equal(r.json.message, 'pods "ghost" not found')
})

async function readAll(res: Response, onChunk: (soFar: string) => void): Promise<string> {
  let text = ''
  const decoder = new TextDecoder()
  if (!res.body) return text
  for await (const chunk of res.body) {
    text += decoder.decode(chunk as Uint8Array, { stream: true })
    onChunk(text)
  }
  return text
}

test('follow streams appended lines until the pod finishes', async () => {
  emu.create(PODS, { metadata: { name: 'f' }, spec: { containers: [{ name: 'main' }] }, status: { phase: 'Running' } })
  emu.appendPodLog('argo', 'f', 'main', 'before')
  const res = await fetch(`${emu.url}${LOG}/f/log?follow=true`, { headers: { authorization: `Bearer ${emu.adminToken}` } })
  assert.equal(res.status, 200)
  let step = 0
  const text = await readAll(res, (soFar) => {
    // react to what the client has seen, so nothing depends on timing
    if (step === 0 && soFar.includes('before\n')) {
      step = 1
      emu.appendPodLog('argo', 'f', 'main', 'during')
    } else if (step === 1 && soFar.includes('during\n')) {
      step = 2
      emu.patch(PODS, 'f', { status: { phase: 'Succeeded' } })
      emu.appendPodLog('argo', 'f', 'main', 'after the end')
    }
  })
  assert.equal(text, 'before\nduring\n')
})

test('follow ends when the pod is deleted; follow on a finished pod returns at once', async () => {
  emu.create(PODS, { metadata: { name: 'g' }, spec: { containers: [{ name: 'main' }] }, status: { phase: 'Running' } })
  emu.appendPodLog('argo', 'g', 'main', 'x')
  const res = await fetch(`${emu.url}${LOG}/g/log?follow=true`, { headers: { authorization: `Bearer ${emu.adminToken}` } })
  const text = await readAll(res, (soFar) => {
    if (soFar === 'x\n') emu.remove(PODS, 'g')
  })
  assert.equal(text, 'x\n')
  emu.create(PODS, { metadata: { name: 'h' }, spec: { containers: [{ name: 'main' }] }, status: { phase: 'Failed' } })
  emu.appendPodLog('argo', 'h', 'main', 'a\nb\n')
  const done = await call(emu, 'GET', `${LOG}/h/log?follow=true&tailLines=1`)
  assert.equal(done.text, 'b\n')
})
