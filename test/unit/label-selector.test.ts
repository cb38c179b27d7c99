import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatLabelSelector, formatRequirement, LabelSelectorError, matchesLabels, parseLabelSelector } from '../../src/lib/label-selector.js'

function matches(sel: string, labels?: Record<string, string>): boolean {
  return matchesLabels(parseLabelSelector(sel), labels)
}

test('empty selector matches everything', () => {
  assert.deepEqual(parseLabelSelector(''), [])
  assert.deepEqual(parseLabelSelector('   '), [])
  assert.equal(matches('', undefined), true)
})

test('parses every operator, sorted by key, with canonical formatting', () => {
  const reqs = parseLabelSelector('z=1,y==2,x!=3,w in (b,a),v notin (c),u,!t,s>4,r<5')
  assert.deepEqual(reqs.map((r) => r.key), ['r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z'])
  assert.deepEqual(reqs.find((r) => r.key === 'w'), { key: 'w', operator: 'in', values: ['a', 'b'] })
  assert.equal(formatLabelSelector(reqs), 'r<5,s>4,!t,u,v notin (c),w in (a,b),x!=3,y==2,z=1')
  assert.equal(formatRequirement({ key: 'k', operator: 'exists', values: [] }), 'k')
})

test('whitespace and qualified keys', () => {
  const reqs = parseLabelSelector(' app.kubernetes.io/name in ( web , db ) , workflows.argoproj.io/completed = false ')
  assert.deepEqual(reqs, [
    { key: 'app.kubernetes.io/name', operator: 'in', values: ['db', 'web'] },
    { key: 'workflows.argoproj.io/completed', operator: '=', values: ['false'] },
  ])
})

test('equality, inequality and sets', () => {
  assert.equal(matches('a=1', { a: '1' }), true)
  assert.equal(matches('a==1', { a: '2' }), false)
  assert.equal(matches('a=1', undefined), false)
  assert.equal(matches('a!=1', { a: '2' }), true)
  assert.equal(matches('a!=1', {}), true, '!= matches when the key is absent')
  assert.equal(matches('a!=1', { a: '1' }), false)
  assert.equal(matches('a in (1,2)', { a: '2' }), true)
  assert.equal(matches('a in (1,2)', {}), false)
  assert.equal(matches('a notin (1,2)', {}), true)
  assert.equal(matches('a notin (1,2)', { a: '1' }), false)
  assert.equal(matches('a', { a: '' }), true)
  assert.equal(matches('!a', { a: '' }), false)
  assert.equal(matches('!a', { b: 'x' }), true)
  assert.equal(matches('a=1,b=2', { a: '1', b: '2' }), true)
  assert.equal(matches('a=1,b=2', { a: '1' }), false)
})

test('empty values: a= and in ()', () => {
  assert.equal(matches('a=', { a: '' }), true)
  assert.equal(matches('a=', { a: 'x' }), false)
  assert.equal(matches('a in ()', { a: '' }), true)
  assert.equal(matches('a=,b=1', { a: '', b: '1' }), true)
})

test('> and < need an integer, and match only integer labels', () => {
  assert.equal(matches('n>5', { n: '6' }), true)
  assert.equal(matches('n>5', { n: '5' }), false)
  assert.equal(matches('n<5', { n: '4' }), true)
  assert.equal(matches('n>5', {}), false)
  assert.equal(matches('n<5', { n: 'x' }), false)
  assert.equal(matches('n>5', { n: '10' }), true, 'compared as numbers, not strings')
  assert.throws(() => parseLabelSelector('n>x'), LabelSelectorError)
  assert.throws(() => parseLabelSelector('n<'), LabelSelectorError)
})

test('syntax errors are LabelSelectorError with apimachinery-like messages', () => {
  const bad: [string, RegExp][] = [
    ['a in b', /found 'b', expected: '\('/],
    ['a in (b', /found '', expected: ',' or '\)'/],
    ['a=b=c', /found '=', expected: ',' or 'end of string'/],
    ['a b', /found 'b', expected: in, notin, =, ==, !=, gt, lt/],
    ['=a', /found '=', expected: !, identifier, or 'end of string'/],
    ['a=1,', /found '', expected: identifier after ','/],
    ['!', /expected: identifier/],
    ['a=(b)', /found '\(', expected: identifier/],
  ]
  for (const [s, re] of bad) {
    assert.throws(() => parseLabelSelector(s), (err: unknown) => {
      assert.ok(err instanceof LabelSelectorError, s)
      assert.match(err.message, re, s)
      return true
    })
  }
})

test('invalid keys and values are rejected (quotes, too long, bad characters)', () => {
  for (const s of ['a="x"', "a='x'", 'a=-x', `a=${'x'.repeat(64)}`, 'Bad Key=1', '-a=1', 'a/b/c=1', 'UPPER.example.com/a=1', `${'k'.repeat(64)}=1`]) {
    assert.throws(() => parseLabelSelector(s), LabelSelectorError, s)
  }
  assert.match(
    (() => { try { parseLabelSelector('a="x"') } catch (e) { return (e as Error).message } return '' })(),
    /^unable to parse requirement: values\[0\]\[a\]: Invalid value: "\\"x\\"": a valid label must be an empty string or consist of alphanumeric characters/,
  )
  assert.deepEqual(parseLabelSelector('a.b_c-d=X.y_z-1'), [{ key: 'a.b_c-d', operator: '=', values: ['X.y_z-1'] }])
})
