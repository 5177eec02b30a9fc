import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Console,
  ConsoleError,
  DuplicateCommandError,
  formatUsage,
  type OutputLine,
  type RunContext,
  UsageError,
} from '../src/index.js';
import { makeConsole, texts } from './helpers.js';
import { toyProvider } from './toy-config.js';

const noop = { group: 'test', usage: '', description: 'does nothing', run() {} };

describe('command registry', () => {
  test('duplicate names are rejected, also within one batch, leaving the registry unchanged', (t) => {
    const c = makeConsole(t);
    c.register({ ...noop, name: 'one' });
    assert.throws(
      () => c.register({ ...noop, name: 'one' }),
      (e: unknown) =>
        e instanceof DuplicateCommandError &&
        e instanceof ConsoleError &&
        e.code === 'CONSOLE_DUPLICATE_COMMAND' &&
        e.command === 'one',
    );
    assert.equal(c.command('one')?.description, noop.description, 'the first one stays');
    assert.throws(() => c.register({ ...noop, name: 'help' }), /already registered/);
    assert.throws(
      () =>
        c.register([
          { ...noop, name: 'two' },
          { ...noop, name: 'two' },
        ]),
      { code: 'CONSOLE_DUPLICATE_COMMAND' },
    );
    assert.equal(c.command('two'), undefined);
  });

  test('malformed specs are rejected with the reason', (t) => {
    const c = makeConsole(t);
    assert.throws(() => c.register({ ...noop, name: 'has space' }), {
      code: 'CONSOLE_INVALID_COMMAND_SPEC',
    });
    assert.throws(() => c.register({ ...noop, name: 'x', group: '' }), /group/);
    assert.throws(() => c.register({ ...noop, name: 'x', minArgs: 2, maxArgs: 1 }), /minArgs/);
    assert.throws(
      () =>
        c.register({ ...noop, name: 'x', run: undefined } as unknown as typeof noop & {
          name: string;
        }),
      /run must be a function/,
    );
  });

  test('formatUsage always starts with /name', () => {
    assert.equal(formatUsage({ ...noop, name: 'a', usage: 'a <x>' }), '/a <x>');
    assert.equal(formatUsage({ ...noop, name: 'a', usage: '<x>' }), '/a <x>');
    assert.equal(formatUsage({ ...noop, name: 'a', usage: '' }), '/a');
    assert.equal(formatUsage({ ...noop, name: 'ab', usage: 'abc' }), '/ab abc');
  });
});

describe('Console.execute', () => {
  test('runs commands with parsed arguments and collects their typed lines', async (t) => {
    const c = makeConsole(t);
    const events: OutputLine[] = [];
    c.on('line', (l) => events.push(l));
    c.register({
      ...noop,
      name: 'say',
      run(args, { out, rawArgs, name }) {
        out.text(`args=${JSON.stringify(args)} raw=${rawArgs} name=${name}`);
        out.info('i');
        out.warn('w');
        out.message('m');
      },
    });
    const r = await c.execute('/say "a b" c');
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.lines.map((l) => [l.kind, l.text, l.source]),
      [
        ['text', 'args=["a b","c"] raw="a b" c name=say', 'say'],
        ['info', 'i', 'say'],
        ['warn', 'w', 'say'],
        ['message', 'm', 'say'],
      ],
    );
    assert.deepEqual(events, r.lines);
    assert.deepEqual(c.output.slice(-4), r.lines);
  });

  test('multi-line text becomes several lines', async (t) => {
    const c = makeConsole(t);
    const r = await c.execute('/echo "a\\nb"');
    assert.deepEqual(texts(r.lines), ['a', 'b']);
  });

  test('unknown command: error naming the closest commands', async (t) => {
    const c = makeConsole(t);
    c.register([
      { ...noop, name: 'memberlistjoin' },
      { ...noop, name: 'memberlistleave' },
    ]);
    const r = await c.execute('/memberlistjion 1.2.3.4');
    assert.equal(r.ok, false);
    assert.match(r.error!, /unknown command \/memberlistjion; did you mean \/memberlistjoin/);
    assert.deepEqual(texts(r.lines, 'error'), [r.error]);
    const r2 = await c.execute('/zzzzzzzz');
    assert.doesNotMatch(r2.error!, /did you mean/);
  });

  test('wrong number of arguments prints the usage', async (t) => {
    const c = makeConsole(t);
    const r = await c.execute('/sleep');
    assert.equal(r.ok, false);
    assert.match(r.error!, /takes 1 argument\(s\), got 0; usage: \/sleep <seconds>/);
    const r2 = await c.execute('/help a b c');
    assert.match(r2.error!, /usage: \/help/);
  });

  test('a UsageError from a handler prints the usage; other throws and false fail with a message', async (t) => {
    const c = makeConsole(t);
    c.register([
      {
        ...noop,
        name: 'u',
        usage: 'u <n>',
        run: () => {
          throw new UsageError('n must be a number');
        },
      },
      {
        ...noop,
        name: 'boom',
        run: async () => {
          throw new Error('kaput');
        },
      },
      { ...noop, name: 'quiet', run: () => false },
      {
        ...noop,
        name: 'loud',
        run: (_a, { out }) => {
          out.error('disk full');
          return false;
        },
      },
    ]);
    assert.equal((await c.execute('/u x')).error, 'n must be a number; usage: /u <n>');
    assert.equal((await c.execute('/boom')).error, '/boom: kaput');
    const quiet = await c.execute('/quiet');
    assert.equal(quiet.error, '/quiet failed');
    assert.deepEqual(texts(quiet.lines, 'error'), ['/quiet failed']);
    const loud = await c.execute('/loud');
    assert.equal(loud.error, 'disk full');
    assert.deepEqual(texts(loud.lines, 'error'), ['disk full']);
  });

  test('parse errors are reported, not thrown', async (t) => {
    const c = makeConsole(t);
    const r = await c.execute('/echo "open');
    assert.equal(r.ok, false);
    assert.match(r.error!, /unterminated quote.*column 7/);
  });

  test('non-command lines go to the default handler; // sends a line starting with /', async (t) => {
    const c = makeConsole(t);
    const noHandler = await c.execute('hello');
    assert.equal(noHandler.ok, false);
    assert.match(noHandler.error!, /not a command/);
    const got: string[] = [];
    c.setDefaultHandler((line, { out }) => {
      got.push(line);
      out.message(`<me> ${line}`);
    });
    assert.equal((await c.execute('hello "world"')).ok, true);
    assert.equal((await c.execute('//slash')).ok, true);
    assert.equal((await c.execute('   ')).ok, true);
    assert.deepEqual(got, ['hello "world"', '/slash']);
  });

  test('command events report every executed line', async (t) => {
    const c = makeConsole(t);
    const seen: { line: string; ok: boolean }[] = [];
    c.on('command', (e: { line: string; result: { ok: boolean } }) =>
      seen.push({ line: e.line, ok: e.result.ok }),
    );
    await c.execute('/echo x');
    await c.execute('/nope');
    assert.deepEqual(seen, [
      { line: '/echo x', ok: true },
      { line: '/nope', ok: false },
    ]);
  });

  test('ctx.run nests commands, their lines belong to the outer result, depth is bounded', async (t) => {
    const c = makeConsole(t, { maxDepth: 3 });
    c.register([
      {
        ...noop,
        name: 'outer',
        run: async (_a, ctx) => (await (ctx as RunContext).run('/echo inner')).ok,
      },
      {
        ...noop,
        name: 'loop',
        run: async (_a, ctx) => (await (ctx as RunContext).run('/loop')).ok,
      },
    ]);
    const r = await c.execute('/outer');
    assert.deepEqual(texts(r.lines), ['inner']);
    const loop = await c.execute('/loop');
    assert.equal(loop.ok, false);
    assert.match(texts(loop.lines, 'error').join('\n'), /nested deeper than 3/);
  });

  test('the output buffer is bounded', async (t) => {
    const c = makeConsole(t, { outputLimit: 10 });
    for (let i = 0; i < 25; i++) c.write('text', `line ${i}`);
    assert.equal(c.output.length, 10);
    assert.equal(c.output[0].text, 'line 15');
    assert.equal(c.output[9].text, 'line 24');
  });

  test('close aborts running commands and refuses new ones', async () => {
    const c = new Console();
    const running = c.execute('/sleep 60');
    await c.close();
    const r = await running;
    assert.equal(r.ok, false);
    const after = await c.execute('/echo x');
    assert.equal(after.ok, false);
    assert.match(after.error!, /closed/);
  });

  test('a caller signal aborts one command', async (t) => {
    const c = makeConsole(t);
    const ac = new AbortController();
    const p = c.execute('/sleep 60', { signal: ac.signal });
    ac.abort();
    const r = await p;
    assert.equal(r.ok, false);
    assert.match(r.error!, /aborted/);
  });
});

describe('help', () => {
  test('every command has a /help entry with its usage, description and group', async (t) => {
    const c = makeConsole(t);
    c.useConfig(toyProvider({ color: '', size: '', token: '' }).p);
    const names = c.registry.names();
    assert.deepEqual(names, [
      'echo',
      'execute',
      'help',
      'loadconfig',
      'log',
      'loglevel',
      'saveconfig',
      'shell',
      'showconfig',
      'sleep',
    ]);
    for (const name of names) {
      const spec = c.command(name)!;
      const r = await c.execute(`/help ${name}`);
      assert.equal(r.ok, true, name);
      assert.deepEqual(texts(r.lines), [
        `usage: ${formatUsage(spec)}`,
        `  ${spec.description} (group ${spec.group})`,
      ]);
      assert.ok(spec.description.length > 10, `${name} has a real description`);
      const slash = await c.execute(`/help /${name}`);
      assert.deepEqual(
        slash.lines.map((l) => l.text),
        r.lines.map((l) => l.text),
      );
    }
  });

  test('/help lists groups with their commands; /help groups; /help groups <group>', async (t) => {
    const c = makeConsole(t);
    c.register({ ...noop, name: 'zeta', group: 'app' });
    const all = texts((await c.execute('/help')).lines, 'text');
    assert.deepEqual(all, [
      'app: /zeta',
      'cli: /help /log /loglevel',
      'script: /echo /execute /shell /sleep',
    ]);
    assert.deepEqual(texts((await c.execute('/help groups')).lines), [
      'app (1 command)',
      'cli (3 commands)',
      'script (4 commands)',
    ]);
    const script = texts((await c.execute('/help groups script')).lines);
    assert.equal(script[0], 'script:');
    assert.equal(script.length, 5);
    assert.match(script[1], /^ {2}\/echo <text> {2}— {2}print/);
    const bad = await c.execute('/help groups scirpt');
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /unknown group "scirpt"; did you mean script\?/);
    const unknown = await c.execute('/help shel');
    assert.match(unknown.error!, /unknown command \/shel; did you mean \/shell/);
  });
});

describe('completion', () => {
  test('command names after /, arguments through complete()', (t) => {
    const c = makeConsole(t);
    c.register({
      ...noop,
      name: 'greet',
      complete: (i, _p, _c, args) => (i === 0 ? ['alice', 'bob', 'al pha'] : [`${args[0]}-x`]),
    });
    assert.deepEqual(c.complete('/gr'), { candidates: ['/greet '], replace: '/gr' });
    assert.deepEqual(c.complete('/s').candidates, ['/shell', '/sleep']);
    assert.deepEqual(c.complete('/greet a'), { candidates: ['"al pha"', 'alice'], replace: 'a' });
    assert.deepEqual(c.complete('/greet b'), { candidates: ['bob '], replace: 'b' });
    assert.deepEqual(c.complete('/greet bob '), { candidates: ['bob-x '], replace: '' });
    assert.deepEqual(c.complete('/greet "al p'), { candidates: ['"al pha" '], replace: '"al p' });
    assert.deepEqual(c.complete('/help groups sc'), { candidates: ['script '], replace: 'sc' });
    assert.deepEqual(c.complete('/loglevel console '), {
      candidates: ['debug', 'error', 'info', 'off', 'warn'],
      replace: '',
    });
    assert.deepEqual(c.complete('hello').candidates, []);
    assert.deepEqual(c.complete('/nope x').candidates, []);
  });

  test('a throwing completer offers nothing instead of breaking the UI', (t) => {
    const c = makeConsole(t);
    c.register({
      ...noop,
      name: 'bad',
      complete: () => {
        throw new ConsoleError('X', 'broken');
      },
    });
    assert.deepEqual(c.complete('/bad x').candidates, []);
  });
});
