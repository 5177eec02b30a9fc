import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptSyntaxError } from '../src/errors.js';
import { needsKernel, parseScript, scriptNameFromPath } from '../src/script.js';

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
    '@deadline 2.5s\n@settle 500ms\nalice init\n@kill alice\n@start alice\n@start dave\n@partition alice bob\n@heal alice bob\n@stop bob\n@cont bob\nbob init',
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
    ['@kill', /:1: usage: @kill <peer>/],
    ['a x\n@partition a a', /two different peers/],
    ['@partition a', /:1: usage: @partition <a> <b> \| @partition <a> -> <b>/],
    ['@partition a -> ', /usage: @partition/],
    ['@partition a b c', /usage: @partition/],
    ['@isolate a b', /usage: @isolate <peer>/],
    ['@loss a', /usage: @loss .*the last word is the percentage/],
    ['@loss a 0%', /must be above 0% and at most 100%/],
    ['@loss a 101%', /must be above 0% and at most 100%/],
    ['@loss a 1.234%', /the last word is the percentage/],
    ['@loss a b c 5%', /usage: @loss/],
    ['@rate a fast', /usage: @rate .*e\.g\. @rate alice 1mbit/],
    ['@rate a 1kbit', /below the least of 8kbit/],
    ['@heal a b c', /usage: @heal/],
    ['@peer', /usage: @peer <name> <command\.\.\.>/],
    ['@peer alice', /@peer alice has no command/],
    ['@peer alice node x {nme}', /unknown placeholder \{nme\} in peer command; known: \{name\}/],
    ['@peer alice node "x', /unterminated quote/],
    ['@peer a x\n@peer a y\na init', /:2: @peer a given twice/],
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

test('network faults: one-way links, loss percentages, rates, the @heal forms', () => {
  const s = parseScript(
    [
      'alice init',
      'bob init',
      'charly init',
      '@partition alice -> bob',
      '@partition alice->charly',
      '@partition bob charly',
      '@isolate charly',
      '@loss alice 20%',
      '@loss alice bob 0.5%',
      '@loss bob -> charly 100%',
      '@rate bob 1.5Mbit',
      '@heal alice -> bob',
      '@heal alice bob',
      '@heal charly',
      '@heal',
    ].join('\n'),
    'net',
  );
  const runner = s.lines.filter((l) => l.kind === 'runner');
  assert.deepEqual(
    runner.map(({ action, peers, oneWay, lossPercent, rate }) => ({
      action,
      peers,
      ...(oneWay ? { oneWay } : {}),
      ...(lossPercent ? { lossPercent } : {}),
      ...(rate ? { rate } : {}),
    })),
    [
      { action: 'partition', peers: ['alice', 'bob'], oneWay: true },
      { action: 'partition', peers: ['alice', 'charly'], oneWay: true },
      { action: 'partition', peers: ['bob', 'charly'] },
      { action: 'isolate', peers: ['charly'] },
      { action: 'loss', peers: ['alice'], lossPercent: 20 },
      { action: 'loss', peers: ['alice', 'bob'], lossPercent: 0.5 },
      { action: 'loss', peers: ['bob', 'charly'], oneWay: true, lossPercent: 100 },
      { action: 'rate', peers: ['bob'], rate: { text: '1.5mbit', bitsPerSecond: 1_500_000 } },
      { action: 'heal', peers: ['alice', 'bob'], oneWay: true },
      { action: 'heal', peers: ['alice', 'bob'] },
      { action: 'heal', peers: ['charly'] },
      { action: 'heal', peers: [] },
    ],
  );
  assert.deepEqual(
    runner.filter(needsKernel).map((l) => l.lineNo),
    [4, 5, 7, 8, 9, 10, 11, 12],
    'only two-way @partition and the other @heal forms work without the kernel',
  );
});

test('a fault naming a peer no line uses is a script error (a typo, not a silent no-op)', () => {
  assert.throws(
    () => parseScript('alice init\nbob init\n@partition alice zed\n', 'x', 'x.cmd'),
    /x\.cmd:3: @partition alice zed: no line of the script uses zed \(peers: alice, bob\)/,
  );
  assert.throws(() => parseScript('alice init\n@kill bobb\nbob init', 'x'), /:2: .*uses bobb/);
  assert.throws(() => parseScript('alice init\n@loss zed 5%', 'x'), /uses zed/);
  // Used later in the script, by @start or declared by @peer: all fine.
  assert.deepEqual(parseScript('@partition a b\na init\nb init', 'x').peers, ['a', 'b']);
  assert.deepEqual(parseScript('a init\n@start b\n@isolate b', 'x').lateStart, ['b']);
  const declared = parseScript('@peer b ./passive {name}\na init\n@partition a b', 'x');
  assert.deepEqual(declared.peers, ['a', 'b']);
  assert.deepEqual(declared.lateStart, []);
});

test('@peer: how to start a peer, with placeholders, kept as written', () => {
  const s = parseScript(
    '@peer bob ./go-peer -name {name} -test {test} -bind {addr} -note "two words"\n@peer dave node echo.mjs\nalice init\nbob init\n@start dave',
    'x',
  );
  assert.deepEqual(s.peerCommands, {
    bob: './go-peer -name {name} -test {test} -bind {addr} -note "two words"',
    dave: 'node echo.mjs',
  });
  // @peer is no appearance: dave's first one is @start, so he starts late.
  assert.deepEqual(s.peers, ['alice', 'bob', 'dave']);
  assert.deepEqual(s.lateStart, ['dave']);
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
