import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCount } from '../src/filter.js';
import {
  closestLines,
  describeCount,
  describeFilterFailure,
  substringDistance,
} from '../src/report/expectation.js';
import type { FilterRecord } from '../src/run.js';

test('substringDistance: edits to turn the pattern into some part of the text', () => {
  assert.equal(substringDistance('<bob> hello', 'xx <bob> hello yy'), 0);
  assert.equal(substringDistance('<bob> hello', '<bob> helo'), 1);
  assert.equal(substringDistance('<bob> hello', '<bob> hallo there'), 1);
  assert.equal(substringDistance('abc', ''), 3);
  assert.equal(substringDistance('', 'abc'), 0);
});

test('describeCount words every count form', () => {
  assert.deepEqual(
    ['1', '0', '3', '>=2', '>0', '<=3', '<2', '1..3'].map((c) => describeCount(parseCount(c))),
    [
      '1 line',
      '0 lines',
      '3 lines',
      'at least 2 lines',
      'at least 1 line',
      'at most 3 lines',
      'at most 1 line',
      '1 to 3 lines',
    ],
  );
});

test('closestLines: near lines best first, far ones and dropped ones left out', () => {
  const output = [
    'filter registered: messagesView 1 <bob> hello',
    '<bob> helo',
    'nothing alike here',
    '<bob> hi',
    '<bob> hello!',
  ];
  assert.deepEqual(
    closestLines('<bob> hello', output, 3, (l) => !l.startsWith('filter registered')),
    ['<bob> hello!', '<bob> helo'],
  );
  assert.deepEqual(closestLines('zzz', output), []);
});

test('describeFilterFailure: expected, seen, closest; too many needs no near misses', () => {
  const f = (filter: string, count: string, received: number, source = 'messagesView') =>
    ({
      peer: 'alice',
      source,
      filter,
      count: parseCount(count),
      received,
      registeredAt: 0,
    }) satisfies FilterRecord;
  assert.equal(
    describeFilterFailure(f('<bob> hello', '1', 0), ['<joined> bob', '<bob> helo']),
    'alice expected 1 line starting "<bob> hello", saw 0; closest: "<bob> helo"',
  );
  assert.equal(
    describeFilterFailure(f('<bob> hello', '1', 0), ['<joined> bob']),
    `alice expected 1 line starting "<bob> hello", saw 0; nothing like it in alice's output`,
  );
  assert.equal(
    describeFilterFailure(f('<bob> hi', '1', 2), ['<bob> hi', '<bob> hi']),
    'alice expected 1 line starting "<bob> hi", saw 2',
  );
  assert.equal(
    describeFilterFailure(f('/^x/i', '>=2', 1, 'chat')),
    'alice expected at least 2 lines from source "chat" matching /^x/i, saw 1',
  );
});
