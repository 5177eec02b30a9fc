import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ConfigValidationError,
  Console,
  defaultGoMemberlistConfig,
  GO_FIELD_NAMES,
  GO_MEMBERLIST_FIELDS,
  type GoFieldName,
  HistoryFile,
  parseGoMemberlistConfig,
  runProgram,
  serializeGoMemberlistConfig,
  validateGoMemberlistConfig,
} from '../src/index.js';
import { tempDir } from './helpers.js';

describe('untrusted input never escapes as an exception', () => {
  test('property: execute() resolves for any line, with an error message when it fails', async () => {
    const c = new Console();
    c.register({ name: 'ok', group: 'x', usage: 'ok', description: 'does nothing', run() {} });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string(),
            fc.string().map((s) => `/${s}`),
            fc.string().map((s) => `/help ${s}`),
          ),
          async (line) => {
            const r = await c.execute(line);
            assert.equal(typeof r.ok, 'boolean');
            if (!r.ok) assert.ok(r.error && r.error.length > 0);
          },
        ),
        { numRuns: 500 },
      );
    } finally {
      await c.close();
    }
  });

  test('property: any JSON document is either a valid configuration or a ConfigValidationError', () => {
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
          const { config } = validateGoMemberlistConfig(doc);
          // Whatever was accepted serialises and loads back to the same thing.
          assert.deepEqual(
            parseGoMemberlistConfig(serializeGoMemberlistConfig(config)).config,
            config,
          );
        } catch (err) {
          if (!(err instanceof ConfigValidationError)) throw err;
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
    const valueFor = (f: (typeof GO_MEMBERLIST_FIELDS)[number]): fc.Arbitrary<Pair> => {
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
      Object.fromEntries(GO_MEMBERLIST_FIELDS.map((f) => [f.name, valueFor(f)])) as Record<
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
        const expected = { ...defaultGoMemberlistConfig('local') } as Record<string, unknown>;
        for (const n of present) expected[n] = pairs[n].loaded;
        for (const r of [
          validateGoMemberlistConfig(doc),
          parseGoMemberlistConfig(JSON.stringify(doc)),
        ]) {
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
          parseGoMemberlistConfig(text);
        } catch (err) {
          if (!(err instanceof ConfigValidationError)) throw err;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('HistoryFile', () => {
  test('keeps the newest entries up to the limit, drops consecutive duplicates and multi-line entries', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const file = join(dir, 'h');
    const h = new HistoryFile(file, 3);
    assert.deepEqual(h.load(), []);
    for (const e of ['/a', '/a', '/b  ', '', 'x\ny', '/c', '/d']) h.add(e);
    await h.flush();
    assert.deepEqual(readFileSync(file, 'utf8'), '/b\n/c\n/d\n');
    assert.deepEqual(new HistoryFile(file, 2).load(), ['/c', '/d']);
  });

  test('a history path that cannot be read or written is reported, not thrown', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    // A directory where the file should be: fails for every user, root included.
    const path = join(dir, 'history');
    mkdirSync(path);
    const errors: string[] = [];
    const h = new HistoryFile(path, 10, (e) => errors.push(e.message));
    assert.deepEqual(h.load(), []);
    h.add('/new');
    await h.flush();
    assert.match(errors[0], /cannot read history .*EISDIR/);
    assert.match(errors[1], /cannot save history/);
    assert.deepEqual(h.entries, ['/new']);
    assert.deepEqual(readdirSync(dir), ['history'], 'no temporary file left behind');
  });
});

describe('runProgram', () => {
  test('an abort signal stops the program and says so', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const p = runProgram(
      process.execPath,
      ['-e', 'console.log("up"); setInterval(() => {}, 1000)'],
      {
        signal: ac.signal,
        onStdout: (l) => {
          lines.push(l);
          ac.abort();
        },
        onStderr: () => {},
      },
    );
    const r = await p;
    assert.deepEqual(lines, ['up']);
    assert.equal(r.aborted, true);
    assert.equal(r.signal, 'SIGTERM');
  });

  test('output split across reads and without a final newline comes out as whole lines', async () => {
    const lines: string[] = [];
    const r = await runProgram(
      process.execPath,
      [
        '-e',
        'process.stdout.write("a"); setTimeout(() => process.stdout.write("b\\r\\nc\\u00e9"), 20)',
      ],
      { onStdout: (l) => lines.push(l), onStderr: () => {} },
    );
    assert.equal(r.code, 0);
    assert.deepEqual(lines, ['ab', 'cé']);
  });
});
