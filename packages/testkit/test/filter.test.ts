import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../src/duration.js';
import {
  countSatisfied,
  filterMatches,
  parseCount,
  parseFilterArgs,
  parseWaitArgs,
} from '../src/filter.js';

test('counts: exact, bounds and ranges', () => {
  const sat = (spec: string, n: number) => countSatisfied(parseCount(spec), n);
  assert.ok(sat('1', 1) && !sat('1', 0) && !sat('1', 2));
  assert.ok(sat('0', 0) && !sat('0', 1));
  assert.ok(sat('>=2', 2) && sat('>=2', 99) && !sat('>=2', 1));
  assert.ok(sat('>2', 3) && !sat('>2', 2));
  assert.ok(sat('<=3', 0) && sat('<=3', 3) && !sat('<=3', 4));
  assert.ok(sat('<3', 2) && !sat('<3', 3));
  assert.ok(sat('1..3', 1) && sat('1..3', 3) && !sat('1..3', 0) && !sat('1..3', 4));
  for (const bad of ['', '-1', '01', '1.5', '>=', '=>2', '1..', '..3', '<0', 'x', '1 ']) {
    assert.throws(() => parseCount(bad), /bad count/, bad);
  }
});

test('any exact count N is satisfied by exactly N', () => {
  fc.assert(
    fc.property(fc.nat(1000), fc.nat(1000), (n, m) => {
      assert.equal(countSatisfied(parseCount(String(n)), m), n === m);
    }),
  );
});

test('prefix filters match lines that START with the text (the original)', () => {
  const f = parseFilterArgs(['messagesView', '1', '<bob>', 'test']);
  assert.equal(f.match.kind, 'prefix');
  assert.ok(filterMatches(f, '<bob> test'));
  assert.ok(filterMatches(f, '<bob> testing'));
  assert.ok(!filterMatches(f, 'x <bob> test'));
  assert.ok(!filterMatches(f, '<bob>  test'));
});

test('regex filters and sources', () => {
  const f = parseFilterArgs(['messagesView', '>=1', '/^<(bob|charly)>\\s+hi$/i']);
  assert.equal(f.match.kind, 'regex');
  assert.ok(filterMatches(f, '<Bob>  HI', 'chat'));
  assert.ok(!filterMatches(f, '<alice> hi'));
  const g = parseFilterArgs(['status', '1', '<joined>']);
  assert.ok(filterMatches(g, '<joined> bob has joined', 'status'));
  assert.ok(!filterMatches(g, '<joined> bob has joined', undefined));
  assert.throws(() => parseFilterArgs(['bad source', '1', 'x']), /bad source/);
  // A slash-delimited text with unknown flags is a plain prefix, not a regex.
  assert.equal(parseFilterArgs(['messagesView', '1', '/a/x']).match.kind, 'prefix');
});

test('testwait: trailing duration is the timeout unless it is the only text', () => {
  const a = parseWaitArgs(['messagesView', '1', '<bob>', 'hi', '5s']);
  assert.equal(a.timeoutMs, 5000);
  assert.equal(a.filter.match.text, '<bob> hi');
  const b = parseWaitArgs(['messagesView', '1', '5s']);
  assert.equal(b.timeoutMs, undefined);
  assert.equal(b.filter.match.text, '5s');
  assert.throws(() => parseWaitArgs(['messagesView', '1']), /usage: testwait/);
});

test('durations', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2m'), 120_000);
  for (const bad of ['', '5', 's', '0s', '-1s', '1h', '1.s'])
    assert.throws(() => parseDuration(bad), /bad duration/);
  assert.equal(formatDuration(12.4), '12 ms');
  assert.equal(formatDuration(1234), '1.23 s');
});
