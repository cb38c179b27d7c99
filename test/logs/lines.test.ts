import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LineSink, MAX_LINE, parseStamp, splitLine } from '../../src/logs/lines.js'
import { Merger, type Entry } from '../../src/logs/merge.js'

const write = (sink: LineSink, chunk: Buffer | string) => new Promise<void>((r) => sink.write(chunk, () => r()))

test('LineSink: UTF-8 split across chunks, CRLF, a last line without newline, over-long lines cut', async () => {
  const lines: string[] = []
  const continued: boolean[] = []
  const sink = new LineSink((l, c) => void (lines.push(l), continued.push(c)), () => false)
  const euro = Buffer.from('€')
  await write(sink, Buffer.concat([Buffer.from('a '), euro.subarray(0, 1)]))
  await write(sink, Buffer.concat([euro.subarray(1), Buffer.from('\r\nb\n')]))
  await write(sink, `${'x'.repeat(MAX_LINE + 3)}\nlast`)
  await new Promise<void>((r) => sink.end(() => r()))
  assert.deepEqual(lines.map((l) => (l.length > 20 ? `x*${l.length}` : l)), ['a €', 'b', `x*${MAX_LINE}`, 'xxx', 'last'])
  assert.deepEqual(continued, [false, false, false, true, false])
})

test('splitLine: timestamps split off or kept; a timestamp alone is an empty line; a bad timestamp keeps the line', () => {
  assert.deepEqual(splitLine('2026-01-02T03:04:05.5Z hi there', false), { stamp: { s: Date.parse('2026-01-02T03:04:05Z') / 1000, ns: 500_000_000 }, content: 'hi there' })
  assert.equal(splitLine('2026-01-02T03:04:05Z hi', true)?.content, '2026-01-02T03:04:05Z hi')
  assert.equal(splitLine('nospace', false).content, 'nospace')
  assert.deepEqual(splitLine('2026-01-02T03:04:05Z', false), { stamp: { s: Date.parse('2026-01-02T03:04:05Z') / 1000, ns: 0 }, content: '' })
  // a later piece of a line cut at MAX_LINE: all content, the time of the first piece
  assert.deepEqual(splitLine('2026-01-02T03:04:05Z rest', false, { s: 1, ns: 2 }), { stamp: { s: 1, ns: 2 }, content: '2026-01-02T03:04:05Z rest' })
  assert.equal(splitLine('garbage hi', false)?.content, 'garbage hi')
  assert.deepEqual(parseStamp('2026-01-02T03:04:05.123456789+01:00'), { s: Date.parse('2026-01-02T02:04:05Z') / 1000, ns: 123456789 })
})

test('Merger: exact order without linger; a silent source holds the others until it ends', () => {
  const out: Entry[] = []
  let done = false
  const m = new Merger({ emit: (e) => out.push(e), onDone: () => { done = true } })
  const a = m.add('a')
  const b = m.add('b')
  const line = (s: number, content: string) => ({ stamp: { s, ns: 0 }, content })
  m.push(a, line(1, 'a1'))
  m.push(a, line(3, 'a3'))
  assert.equal(out.length, 0, 'b may still have earlier lines')
  m.push(b, line(2, 'b2'))
  assert.deepEqual(out.map((e) => e.content), ['a1', 'b2'])
  m.end(b)
  m.end(a)
  m.seal()
  assert.deepEqual(out.map((e) => e.content), ['a1', 'b2', 'a3'])
  assert.equal(done, true)
})

test('Merger: with a linger, a silent source does not hold the others for ever', async () => {
  const out: Entry[] = []
  const m = new Merger({ lingerMs: 5, emit: (e) => out.push(e), onDone: () => {} })
  const a = m.add('a')
  m.add('b')
  m.push(a, { stamp: { s: 1, ns: 0 }, content: 'a1' })
  while (!out.length) await new Promise((r) => setTimeout(r, 5))
  assert.deepEqual(out, [{ podName: 'a', content: 'a1' }])
  m.stop()
})
