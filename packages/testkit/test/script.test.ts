import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptSyntaxError } from '../src/errors.js';
import { parseScript, scriptNameFromPath } from '../src/script.js';

const DEFAULT = `alice init
bob init
charly init
alice testfilter messagesView 1 <bob> test
alice msg test
`;

test('parses the original format into peer lines with line numbers', () => {
  const s = parseScript(DEFAULT, 'default');
  assert.equal(s.lines.length, 5);
  assert.deepEqual(s.peers, ['alice', 'bob', 'charly']);
  assert.deepEqual(s.lines[3], {
    kind: 'peer',
    lineNo: 4,
    peer: 'alice',
    command: 'testfilter messagesView 1 <bob> test',
    text: 'alice testfilter messagesView 1 <bob> test',
  });
});

test('skips comments and blank lines, keeps source line numbers, reads CRLF', () => {
  const s = parseScript(
    '# header\r\n\r\n  alice init  \r\n\t# indented comment\nbob msg a  b',
    'x',
  );
  assert.deepEqual(
    s.lines.map((l) => [l.lineNo, l.text]),
    [
      [3, 'alice init'],
      [5, 'bob msg a  b'],
    ],
  );
});

test('runner lines and directives', () => {
  const s = parseScript(
    '@deadline 2.5s\n@settle 500ms\nalice init\n@kill alice\n@start alice\n@start dave\n@partition alice bob\n@heal alice bob\n@stop bob\n@cont bob',
    'faults',
  );
  assert.equal(s.lineDeadlineMs, 2500);
  assert.equal(s.settleMs, 500);
  assert.deepEqual(s.peers, ['alice', 'dave', 'bob']);
  assert.deepEqual(s.lateStart, ['dave']);
  const runner = s.lines.filter((l) => l.kind === 'runner');
  assert.deepEqual(
    runner.map((l) => (l.kind === 'runner' ? [l.action, ...l.peers] : [])),
    [
      ['kill', 'alice'],
      ['start', 'alice'],
      ['start', 'dave'],
      ['partition', 'alice', 'bob'],
      ['heal', 'alice', 'bob'],
      ['stop', 'bob'],
      ['cont', 'bob'],
    ],
  );
});

test('garbage is rejected with file and line number', () => {
  const cases: [string, RegExp][] = [
    ['alice init\nbob', /x\.cmd:2: peer bob has no command/],
    ['alice init\n\n@explode bob', /x\.cmd:3: unknown directive @explode/],
    ['@kill', /:1: @kill takes one peer, got 0/],
    ['@partition a a', /two different peers/],
    ['@partition a', /takes two peers/],
    ['@deadline soon', /:1: bad duration "soon"/],
    ['@deadline 30', /bad duration "30"/],
    ['@deadline 1s\n@deadline 2s', /:2: @deadline given twice/],
    ['al!ce init', /bad peer name "al!ce"/],
    ['alice 9lives', /bad command name "9lives"/],
    ['alice testfilter messagesView x <bob> hi', /:1: testfilter: bad count "x"/],
    ['alice testfilter messagesView 1', /testfilter: usage/],
    ['alice testfilter messagesView 3..1 a', /3 > 1/],
    ['alice testwait messagesView 1 /(unclosed/', /bad regular expression/],
    ['# nothing\n\n', /script has no lines/],
    ['alice init\0', /NUL byte/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseScript(text, 'x'),
      (err: unknown) =>
        err instanceof ScriptSyntaxError && err.code === 'SCRIPT_SYNTAX' && re.test(err.message),
      `${JSON.stringify(text)} should fail with ${re}`,
    );
  }
});

test('error carries the line number as a field', () => {
  try {
    parseScript('alice init\nbob init\n@zap', 'x', 'dir/x.cmd');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ScriptSyntaxError);
    assert.equal(err.line, 3);
    assert.equal(err.file, 'dir/x.cmd');
  }
});

test('bad test names are refused', () => {
  assert.throws(() => parseScript('a b', '../etc'), /bad test name/);
  assert.equal(scriptNameFromPath('examples/tests/default.cmd'), 'default');
});
