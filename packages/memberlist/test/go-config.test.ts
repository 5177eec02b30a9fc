import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  validateConfig,
} from '../src/config.js';
import {
  fromGoConfig,
  GoConfigError,
  parseGoConfig,
  serializeGoConfig,
  toGoConfig,
  validateGoConfig,
} from '../src/go-config.js';
import {
  GO_CONFIG_FIELDS,
  GO_FIELD_NAMES,
  type GoFieldName,
  type GoFieldSpec,
} from '../src/go-config-fields.js';

/** The Go prototype's saveconfig output (see test/vectors/README.md). */
const goConfigVectorPath = fileURLToPath(
  new URL('../../test/vectors/go-memberlist-config.json', import.meta.url),
);
const vector = readFileSync(goConfigVectorPath, 'utf8');
const VECTOR_NAME = 'alice-host-6ba7b810-9dad-11d1-80b4-00c04fd430c8';

/** Go's preset in the Go form, derived from memberlist's preset. */
const goLocal = (name: string) => toGoConfig({ ...defaultLocalConfig(), name });

function rejection(text: string): GoConfigError {
  try {
    parseGoConfig(text);
  } catch (err) {
    assert.ok(err instanceof GoConfigError, String(err));
    assert.equal(err.code, 'ERR_GO_CONFIG');
    return err;
  }
  assert.fail(`accepted ${text}`);
}

describe('Go memberlist configuration format', () => {
  test("the Go prototype's saveconfig file loads, every field present, no warnings", () => {
    const { config, present, warnings } = parseGoConfig(vector);
    assert.deepEqual(present, [...GO_FIELD_NAMES]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, { ...goLocal(VECTOR_NAME), BindAddr: '127.0.0.1' });
    assert.equal(config.PushPullInterval, 15_000_000_000);
    assert.equal(config.ProbeTimeout, 200_000_000);
  });

  test('serialisation reproduces the Go file byte for byte', () => {
    assert.equal(serializeGoConfig(parseGoConfig(vector).config), vector);
  });

  test("memberlist's Local preset, saved in the Go form, is the Go file byte for byte", () => {
    const c = { ...defaultLocalConfig(), name: VECTOR_NAME, bindAddr: '127.0.0.1' };
    assert.equal(serializeGoConfig(toGoConfig(c)), vector);
  });

  test('strings are escaped like Go (<, >, &)', () => {
    const text = serializeGoConfig(toGoConfig({ ...defaultLANConfig(), name: 'a<b>&c' }));
    assert.match(text, /"Name": "a\\u003cb\\u003e\\u0026c"/);
    assert.equal(parseGoConfig(text).config.Name, 'a<b>&c');
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

  test('a key far from every field name is only a warning, however long', () => {
    const long = 'Q'.repeat(100_000);
    const { warnings } = parseGoConfig(JSON.stringify({ [long]: 1, ProbeIntervalMsX: 1 }));
    assert.equal(warnings.length, 2);
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
    const { config, warnings } = parseGoConfig(JSON.stringify(doc));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /Delegate: a Go object that cannot be loaded/);
    assert.match(warnings[1], /unknown field "QueueCheckInterval" ignored/);
    assert.equal(config.Delegate, null);
    assert.deepEqual(config.CIDRsAllowed?.[0], { IP: '10.0.0.0', Mask: '/wAAAA==' });
    assert.ok(!('QueueCheckInterval' in config));
  });

  test('fields missing from a document keep the base values', () => {
    const base = toGoConfig({ ...defaultWANConfig(), name: 'w' });
    const { config, present } = parseGoConfig('{"GossipNodes": 9}', { base });
    assert.deepEqual(present, ['GossipNodes']);
    assert.deepEqual(config, { ...base, GossipNodes: 9 });
  });
});

describe('conversion between the Go form and Config', () => {
  test('every preset survives the round trip through the Go form', () => {
    for (const preset of [defaultLocalConfig(), defaultLANConfig(), defaultWANConfig()]) {
      const back = fromGoConfig(toGoConfig(preset), defaultLocalConfig());
      // Go has no field for the isopeer extensions: they come from the base.
      const extensions = [
        'disableTcpPingsForNode',
        'gossipMinTransmits',
        'catchUpPushPullMs',
        'prioritizeSuspectProbes',
        'earlyProbeFailure',
        'reconnectIntervalMs',
        'reconnectTimeoutMs',
      ] as const;
      for (const k of extensions) {
        assert.deepEqual(back[k], defaultLocalConfig()[k], k);
        (back as unknown as Record<string, unknown>)[k] = preset[k];
      }
      assert.deepEqual(back, preset);
    }
  });

  test("the Go prototype's file becomes a valid Config with its values", () => {
    const parsed = parseGoConfig(vector);
    const c = fromGoConfig(parsed.config, defaultLocalConfig());
    validateConfig(c);
    assert.equal(c.probeIntervalMs, parsed.config.ProbeInterval / 1e6);
    assert.equal(c.name, VECTOR_NAME);
    assert.equal(c.bindAddr, '127.0.0.1');
  });

  test('maps CIDRs both ways and rejects a bad key with the field name', () => {
    const go = {
      ...toGoConfig({ ...defaultLANConfig(), name: 'n' }),
      CIDRsAllowed: [{ IP: '10.0.0.0', Mask: Buffer.from([255, 0, 0, 0]).toString('base64') }],
    };
    const c = fromGoConfig(go, defaultLocalConfig());
    assert.deepEqual(c.cidrsAllowed, ['10.0.0.0/8']);
    assert.deepEqual(toGoConfig(c).CIDRsAllowed, go.CIDRsAllowed);
    assert.deepEqual(toGoConfig({ ...c, cidrsAllowed: ['10.1.2.3'] }).CIDRsAllowed, [
      { IP: '10.1.2.3', Mask: '/////w==' },
    ]);
    assert.throws(
      () =>
        fromGoConfig(
          { ...go, SecretKey: Buffer.from('short').toString('base64') },
          defaultLocalConfig(),
        ),
      (e: unknown) => e instanceof GoConfigError && /SecretKey/.test(e.message),
    );
  });

  test('the secret key becomes the keyring and back', () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const go = { ...goLocal('k'), SecretKey: key };
    const c = fromGoConfig(go, defaultLocalConfig());
    assert.deepEqual(
      c.keyring?.keys.map((k) => Buffer.from(k).toString('base64')),
      [key],
    );
    assert.equal(toGoConfig(c).SecretKey, key);
  });
});

describe('one place for each fact', () => {
  test('no source file outside memberlist holds a copy of a Go preset value', () => {
    // The Go form of a preset is derived with toGoConfig: a Go field name with a literal number
    // anywhere else is a second copy that can drift.
    const packages = fileURLToPath(new URL('../../../', import.meta.url));
    const copy =
      /\b(TCPTimeout|ProbeInterval|ProbeTimeout|GossipInterval|PushPullInterval|SuspicionMult|GossipToTheDeadTime|RetransmitMult|IndirectChecks|ProtocolVersion)\s*:\s*\d/;
    const versionBounds = /PROTOCOL_VERSION_(MIN|MAX)\s*=/;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.ts')) {
          const text = readFileSync(full, 'utf8');
          const own = full.endsWith(join('memberlist', 'src', 'codec', 'vsn.ts'));
          if (copy.test(text) || (!own && versionBounds.test(text))) offenders.push(full);
        }
      }
    };
    for (const pkg of readdirSync(packages)) {
      const src = join(packages, pkg, 'src');
      if (
        statSync(join(packages, pkg)).isDirectory() &&
        readdirSync(join(packages, pkg)).includes('src')
      )
        walk(src);
    }
    assert.deepEqual(offenders, []);
  });
});

describe('untrusted configuration documents', () => {
  test('property: any JSON document is either a valid configuration or a GoConfigError', () => {
    const field = fc.constantFrom(
      'BindPort',
      'ProbeInterval',
      'Name',
      'SecretKey',
      'CIDRsAllowed',
      'Delegate',
      'x',
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(field, fc.jsonValue())), (doc) => {
        try {
          const { config } = validateGoConfig(doc);
          // Whatever was accepted serialises and loads back to the same thing.
          assert.deepEqual(parseGoConfig(serializeGoConfig(config)).config, config);
        } catch (err) {
          if (!(err instanceof GoConfigError)) throw err;
          assert.ok(err.issues.length > 0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('property: every valid document is accepted, each field it sets read back as written', () => {
    // For each field kind: a value Go's saveconfig could have written, and what it must load as.
    type Pair = { written: unknown; loaded: unknown };
    const same = (a: fc.Arbitrary<unknown>) => a.map((v): Pair => ({ written: v, loaded: v }));
    const ip = fc.oneof(fc.ipV4(), fc.ipV6());
    const aesKey = fc
      .constantFrom(16, 24, 32)
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
      .map((b) => Buffer.from(b).toString('base64'));
    const network = fc
      .tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.boolean())
      .map(([addr, bits, asText]): Pair => {
        const mask = Buffer.alloc(4);
        mask.writeUInt32BE(bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
        const go = { IP: addr, Mask: mask.toString('base64') };
        return { written: asText ? `${addr}/${bits}` : go, loaded: go };
      });
    const valueFor = (f: GoFieldSpec): fc.Arbitrary<Pair> => {
      switch (f.kind) {
        case 'string':
          return same(fc.string());
        case 'ip':
          return same(ip);
        case 'optional-ip':
          return same(fc.oneof(fc.constant(''), ip));
        case 'int':
          return same(fc.integer({ min: f.min ?? 0, max: f.max ?? Number.MAX_SAFE_INTEGER }));
        case 'duration':
          return same(fc.maxSafeNat());
        case 'bool':
          return same(fc.boolean());
        case 'secret-key':
          return same(fc.oneof(fc.constant(null), fc.constant(''), aesKey));
        case 'opaque':
          return fc.constantFrom<Pair>(
            { written: null, loaded: null },
            { written: {}, loaded: null },
          );
        case 'cidrs':
          return fc.oneof(
            fc.constant<Pair>({ written: null, loaded: null }),
            fc.array(network, { maxLength: 3 }).map((ns) => ({
              written: ns.map((n) => n.written),
              loaded: ns.map((n) => n.loaded),
            })),
          );
      }
    };
    const fields = fc.record(
      Object.fromEntries(GO_CONFIG_FIELDS.map((f) => [f.name, valueFor(f)])) as Record<
        GoFieldName,
        fc.Arbitrary<Pair>
      >,
    );
    // Fields checked against each other travel together, with values that satisfy the checks.
    const groups = [
      ['DelegateProtocolMin', 'DelegateProtocolVersion', 'DelegateProtocolMax'],
      ['ProbeTimeout', 'ProbeInterval'],
    ] as GoFieldName[][];
    fc.assert(
      fc.property(fields, fc.subarray([...GO_FIELD_NAMES]), (pairs, chosen) => {
        for (const group of groups) {
          const sorted = group.map((n) => pairs[n].loaded as number).sort((a, b) => a - b);
          group.forEach((n, i) => {
            pairs[n] = { written: sorted[i], loaded: sorted[i] };
          });
        }
        const present = GO_FIELD_NAMES.filter(
          (n) =>
            chosen.includes(n) ||
            groups.some((g) => g.includes(n) && g.some((m) => chosen.includes(m))),
        );
        const doc = Object.fromEntries(present.map((n) => [n, pairs[n].written]));
        const expected = { ...goLocal('') } as Record<string, unknown>;
        for (const n of present) expected[n] = pairs[n].loaded;
        for (const r of [validateGoConfig(doc), parseGoConfig(JSON.stringify(doc))]) {
          assert.deepEqual(r.config, expected);
          assert.deepEqual(r.present, present);
          const ignoredObjects = present.filter(
            (n) => pairs[n].written !== null && pairs[n].loaded === null,
          );
          assert.equal(r.warnings.length, ignoredObjects.length, r.warnings.join('; '));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('property: arbitrary text as a configuration file is rejected cleanly', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseGoConfig(text);
        } catch (err) {
          if (!(err instanceof GoConfigError)) throw err;
        }
      }),
      { numRuns: 500 },
    );
  });
});
