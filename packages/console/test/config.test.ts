import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type ConfigProvider,
  ConfigValidationError,
  type Console,
  defaultGoMemberlistConfig,
  GO_FIELD_NAMES,
  type GoFieldName,
  type GoMemberlistConfig,
  parseGoMemberlistConfig,
  quoteWord,
  serializeGoMemberlistConfig,
} from '../src/index.js';
import { makeConsole, tempDir, texts, vectorPath } from './helpers.js';

const vector = readFileSync(vectorPath, 'utf8');

/** An application's configuration holder, as the chat peer registers it. */
function provider(
  initial: GoMemberlistConfig,
  nextCreate: string[] = ['Name', 'BindAddr', 'BindPort'],
) {
  const state = { config: initial, sets: [] as GoFieldName[][] };
  const p: ConfigProvider = {
    get: () => state.config,
    set(config, changed) {
      state.config = config;
      state.sets.push(changed);
    },
    appliesOnNextCreate: nextCreate,
  };
  return { p, state };
}

function withConfig(
  t: { after(fn: () => unknown): void },
  initial = defaultGoMemberlistConfig('lan', 'me'),
) {
  const c = makeConsole(t);
  const { p, state } = provider(initial);
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  c.useConfig({ ...p, defaultFile: join(dir, 'default.json') });
  return { c, state, dir };
}

function rejection(text: string): ConfigValidationError {
  try {
    parseGoMemberlistConfig(text);
  } catch (err) {
    assert.ok(err instanceof ConfigValidationError, String(err));
    assert.equal(err.code, 'CONSOLE_CONFIG_INVALID');
    return err;
  }
  assert.fail(`accepted ${text}`);
}

describe('Go memberlist configuration format', () => {
  test("the Go prototype's saveconfig file loads, every field present, no warnings", () => {
    const { config, present, warnings } = parseGoMemberlistConfig(vector);
    assert.deepEqual(present, [...GO_FIELD_NAMES]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, {
      ...defaultGoMemberlistConfig('local', 'alice-host-6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      BindAddr: '127.0.0.1',
    });
    assert.equal(config.PushPullInterval, 15_000_000_000);
    assert.equal(config.ProbeTimeout, 200_000_000);
  });

  test('serialisation reproduces the Go file byte for byte', () => {
    assert.equal(serializeGoMemberlistConfig(parseGoMemberlistConfig(vector).config), vector);
  });

  test('strings are escaped like Go (<, >, &)', () => {
    const text = serializeGoMemberlistConfig({
      ...defaultGoMemberlistConfig('lan'),
      Name: 'a<b>&c',
    });
    assert.match(text, /"Name": "a\\u003cb\\u003e\\u0026c"/);
    assert.equal(parseGoMemberlistConfig(text).config.Name, 'a<b>&c');
  });

  test('broken documents are rejected naming the field', () => {
    const cases: [Record<string, unknown> | string, string, RegExp][] = [
      [{ BindPort: '7946' }, 'BindPort', /expected an integer, got the string "7946"/],
      [{ BindPort: 70000 }, 'BindPort', /between 0 and 65535/],
      [{ ProbeInterval: -1 }, 'ProbeInterval', /negative duration/],
      [{ TCPTimeout: 1.5 }, 'TCPTimeout', /integer \(a duration in nanoseconds/],
      [{ TCPTimeout: '1s' }, 'TCPTimeout', /duration in nanoseconds.*got the string "1s"/],
      [{ TCPTimeout: 1e300 }, 'TCPTimeout', /expected an integer/],
      [{ ProtocolVersion: 6 }, 'ProtocolVersion', /between 1 and 5, got 6/],
      [{ ProtocolVersion: 0 }, 'ProtocolVersion', /at least 1/],
      [{ GossipVerifyIncoming: 'yes' }, 'GossipVerifyIncoming', /true or false/],
      [{ ProbeIntervall: 1 }, 'ProbeIntervall', /did you mean ProbeInterval\?/],
      [{ bindport: 1 }, 'bindport', /did you mean BindPort\?.*case-sensitive/],
      [{ SecretKey: 'AAAA' }, 'SecretKey', /16, 24 or 32 bytes.*got 3/],
      [{ SecretKey: 'not base64!' }, 'SecretKey', /not valid base64/],
      [{ BindAddr: 'localhost' }, 'BindAddr', /IP address/],
      [{ AdvertiseAddr: 'x' }, 'AdvertiseAddr', /IP address/],
      [{ Delegate: 'mine' }, 'Delegate', /expected null/],
      [
        { CIDRsAllowed: [{ IP: '10.0.0.0', Mask: '/wD/AA==' }] },
        'CIDRsAllowed',
        /not a prefix mask/,
      ],
      [{ CIDRsAllowed: ['10.0.0.0/99'] }, 'CIDRsAllowed', /entry 0: expected a network/],
      [{ CIDRsAllowed: {} }, 'CIDRsAllowed', /null or an array/],
      [
        { DelegateProtocolMin: 3, DelegateProtocolMax: 2 },
        'DelegateProtocolMin',
        /greater than DelegateProtocolMax/,
      ],
      [
        { DelegateProtocolVersion: 4, DelegateProtocolMax: 2 },
        'DelegateProtocolVersion',
        /between DelegateProtocolMin/,
      ],
      [
        { ProbeTimeout: 2_000_000_000, ProbeInterval: 1_000_000_000 },
        'ProbeTimeout',
        /longer than ProbeInterval/,
      ],
      [{ UDPBufferSize: 0 }, 'UDPBufferSize', /at least 1/],
      ['[1,2]', '', /expected a JSON object, got an array/],
      ['null', '', /got null/],
      ['{\n  "BindPort": 1,\n  oops\n}', '', /not valid JSON: .* at line 3, column 3/],
    ];
    for (const [doc, field, message] of cases) {
      const err = rejection(typeof doc === 'string' ? doc : JSON.stringify(doc));
      const issue = err.issues.find((i) => i.field === field);
      assert.ok(issue, `${JSON.stringify(doc)}: no issue for ${field} in ${err.message}`);
      assert.match(issue.message, message, JSON.stringify(doc));
      if (field) assert.match(err.message, new RegExp(`${field}: `));
    }
  });

  test('every wrong field is listed at once', () => {
    const err = rejection(
      JSON.stringify({ BindPort: -1, ProbeTimeout: 'x', EnableCompression: 1 }),
    );
    assert.deepEqual(
      err.issues.map((i) => i.field),
      ['BindPort', 'ProbeTimeout', 'EnableCompression'],
    );
  });

  test('unknown fields of other memberlist versions and Go objects are accepted with warnings', () => {
    const doc = JSON.parse(vector);
    doc.QueueCheckInterval = 30_000_000_000;
    doc.Delegate = {};
    doc.CIDRsAllowed = [
      '10.0.0.0/8',
      { IP: 'fd00::', Mask: Buffer.alloc(16, 0xff).fill(0, 8).toString('base64') },
    ];
    const { config, warnings } = parseGoMemberlistConfig(JSON.stringify(doc));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /Delegate: a Go object that cannot be loaded/);
    assert.match(warnings[1], /unknown field "QueueCheckInterval" ignored/);
    assert.equal(config.Delegate, null);
    assert.deepEqual(config.CIDRsAllowed?.[0], { IP: '10.0.0.0', Mask: '/wAAAA==' });
    assert.ok(!('QueueCheckInterval' in config));
  });

  test('fields missing from a document keep the base values', () => {
    const base = defaultGoMemberlistConfig('wan', 'w');
    const { config, present } = parseGoMemberlistConfig('{"GossipNodes": 9}', { base });
    assert.deepEqual(present, ['GossipNodes']);
    assert.deepEqual(config, { ...base, GossipNodes: 9 });
  });
});

describe('/showconfig /saveconfig /loadconfig', () => {
  test('/loadconfig of the Go file reports the changes and what waits for memberlistcreate', async (t) => {
    const { c, state } = withConfig(t);
    const r = await c.execute(`/loadconfig ${quoteWord(vectorPath)}`);
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(state.config, parseGoMemberlistConfig(vector).config);
    assert.deepEqual(state.sets[0], [
      'Name',
      'BindAddr',
      'TCPTimeout',
      'IndirectChecks',
      'RetransmitMult',
      'SuspicionMult',
      'PushPullInterval',
      'ProbeTimeout',
      'GossipInterval',
      'GossipToTheDeadTime',
    ]);
    assert.match(
      texts(r.lines, 'info')[0],
      /go-memberlist-config\.json: changed Name, BindAddr, TCPTimeout/,
    );
    assert.deepEqual(texts(r.lines, 'warn'), [
      'take effect on the next /memberlistcreate only: Name, BindAddr',
    ]);
    const again = await c.execute(`/loadconfig ${quoteWord(vectorPath)}`);
    assert.match(texts(again.lines)[0], /no setting differs/);
    assert.equal(state.sets.length, 1);
  });

  test('/showconfig shows the Go JSON; /saveconfig writes the Go file; they round-trip', async (t) => {
    const { c, state, dir } = withConfig(t);
    await c.execute(`/loadconfig ${quoteWord(vectorPath)}`);
    const shown = await c.execute('/showconfig');
    assert.deepEqual(texts(shown.lines, 'text'), vector.trimEnd().split('\n'));
    assert.deepEqual(texts(shown.lines, 'info'), [
      'take effect on the next /memberlistcreate only: Name, BindAddr, BindPort',
    ]);
    const file = join(dir, 'saved.json');
    assert.equal((await c.execute(`/saveconfig ${quoteWord(file)}`)).ok, true);
    assert.equal(readFileSync(file, 'utf8'), vector);
    assert.equal((await c.execute('/saveconfig')).ok, true);
    assert.equal(readFileSync(join(dir, 'default.json'), 'utf8'), vector);

    writeFileSync(join(dir, 'partial.json'), '{"ProbeInterval": 2000000000, "GossipNodes": 5}');
    await c.execute(`/loadconfig ${quoteWord(join(dir, 'partial.json'))}`);
    await c.execute(`/saveconfig ${quoteWord(file)}`);
    const other = withConfig(t);
    await other.c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.deepEqual(other.state.config, state.config);
    assert.equal(other.state.config.ProbeInterval, 2_000_000_000);
  });

  test('a broken file is rejected naming the field and the configuration stays as it was', async (t) => {
    const { c, state, dir } = withConfig(t);
    const before = state.config;
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      vector
        .replace('"ProtocolVersion": 2', '"ProtocolVersion": 9')
        .replace('"ProbeTimeout": 200000000', '"ProbeTimeout": -5'),
    );
    const r = await c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.equal(r.ok, false);
    assert.match(
      r.error!,
      /bad\.json: invalid memberlist configuration: ProtocolVersion: must be between 1 and 5, got 9; ProbeTimeout: negative duration -5/,
    );
    assert.equal(state.config, before);
    assert.equal(state.sets.length, 0);
    assert.match(
      (await c.execute(`/loadconfig ${quoteWord(join(dir, 'none.json'))}`)).error!,
      /cannot read configuration .*ENOENT/,
    );
    assert.match((await c.execute(`/loadconfig ${quoteWord(dir)}`)).error!, /not a regular file/);
    const saveOverDir = await c.execute(`/saveconfig ${quoteWord(dir)}`);
    assert.match(saveOverDir.error!, /cannot save configuration to/);
    assert.deepEqual(readdirSync(dir).sort(), ['bad.json'], 'no temporary file left behind');
  });

  test('a provider refusing the change fails the command', async (t) => {
    const c = makeConsole(t);
    c.useConfig({
      get: () => defaultGoMemberlistConfig('lan'),
      set: async () => {
        throw new Error('memberlist is shutting down');
      },
      appliesOnNextCreate: (f) => f.startsWith('Bind'),
    });
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const file = join(dir, 'c.json');
    writeFileSync(file, '{"GossipNodes": 1}');
    const r = await c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.equal(r.ok, false);
    assert.match(r.error!, /memberlist is shutting down/);
    assert.throws(
      () =>
        c.useConfig({
          get: () => defaultGoMemberlistConfig('lan'),
          set() {},
          appliesOnNextCreate: [],
        }),
      {
        code: 'CONSOLE_CONFIG_PROVIDER',
      },
    );
  });

  test('the secret key is hidden by /showconfig and saved with owner-only permissions', async (t) => {
    const key = Buffer.alloc(16, 7).toString('base64');
    const { c, dir } = withConfig(t, { ...defaultGoMemberlistConfig('lan', 'k'), SecretKey: key });
    const shown = texts((await c.execute('/showconfig')).lines).join('\n');
    assert.ok(!shown.includes(key));
    assert.match(shown, /"SecretKey": "\(hidden/);
    const file = join(dir, 'secret.json');
    await c.execute(`/saveconfig ${quoteWord(file)}`);
    assert.equal(parseGoMemberlistConfig(readFileSync(file, 'utf8')).config.SecretKey, key);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test("help of the config commands names Go's format", async (t: {
    after(fn: () => unknown): void;
  }) => {
    const { c } = withConfig(t);
    const help = texts((await (c as Console).execute('/help groups memberlist')).lines);
    assert.equal(help.length, 4);
    assert.match(help.join('\n'), /\/loadconfig <file>/);
  });
});
