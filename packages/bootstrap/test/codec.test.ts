import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  BootstrapProtocolError,
  decodeBody,
  formatConfigLine,
  formatDocument,
  formatPeerLine,
  goQuote,
  MAX_BODY_BYTES,
  parseConfigLine,
  parseDocument,
  parseLeaveLine,
  parsePeerLine,
} from '../src/codec.js';
import { initialData } from '../src/semantics.js';
import type { PeerRecord } from '../src/types.js';
import { docArb } from './arbitraries.js';

/** Every parser either returns or throws BootstrapProtocolError with a one-line message. */
function onlyProtocolErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof BootstrapProtocolError, `unexpected ${String(err)}`);
    assert.equal(err.code, 'BOOTSTRAP_PROTOCOL');
    assert.match(err.message, /^[^\n]+$/);
  }
}

const parsers: Array<[string, (s: string) => unknown]> = [
  ['parsePeerLine', parsePeerLine],
  ['parseLeaveLine', parseLeaveLine],
  ['parseConfigLine', parseConfigLine],
  ['parseDocument', parseDocument],
];

for (const [name, parse] of parsers) {
  test(`${name}: arbitrary strings give a value or a one-line BootstrapProtocolError`, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        onlyProtocolErrors(() => parse(s));
      }),
      { numRuns: 2000 },
    );
  });
  test(`${name}: space-separated near-miss tokens never escape as other errors`, () => {
    const token = fc.oneof(
      fc.constantFrom('', '0', '65535', '65536', '-1', '+3', '1e3', 'tcp', 'udp', '{', '"', '\n'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 9 }), (tokens) => {
        onlyProtocolErrors(() => parse(tokens.join(' ')));
      }),
      { numRuns: 2000 },
    );
  });
}

test('decodeBody: random bytes decode or fail with a protocol error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_BODY_BYTES + 10 }), (bytes) => {
      onlyProtocolErrors(() => decodeBody(bytes));
    }),
  );
  assert.throws(() => decodeBody(new Uint8Array(MAX_BODY_BYTES + 1)), /over 4096 bytes/);
  assert.equal(decodeBody(new Uint8Array(MAX_BODY_BYTES)).length, MAX_BODY_BYTES);
});

const field = fc.stringMatching(/^[!-~\u00a0-\u02ff]{1,12}$/);
const peerArb: fc.Arbitrary<PeerRecord> = fc.record({
  id: field,
  name: field,
  ip: field,
  port: fc.integer({ min: 1, max: 65535 }).map(String),
  protocol: fc.constantFrom('tcp', 'udp'),
  status: field,
  timestamp: field,
});

test('peer lines round-trip, also with one trailing line break', () => {
  fc.assert(
    fc.property(peerArb, fc.constantFrom('', '\n', '\r\n'), (p, end) => {
      assert.deepEqual(parsePeerLine(formatPeerLine(p) + end), { ...p });
    }),
  );
});

test('config lines round-trip and accept what Go strconv.Atoi accepts', () => {
  fc.assert(
    fc.property(fc.nat(), fc.nat(), (m, r) => {
      const v = { maxpeers: m, minrefillcandidates: r };
      assert.deepEqual(parseConfigLine(formatConfigLine(v)), v);
    }),
  );
  assert.deepEqual(parseConfigLine('+3 007'), { maxpeers: 3, minrefillcandidates: 7 });
  assert.deepEqual(parseConfigLine('-0 0'), { maxpeers: 0, minrefillcandidates: 0 });
});

test('formatDocument is valid JSON that parses back to the same document', () => {
  fc.assert(
    fc.property(docArb, (d) => {
      const text = formatDocument(d);
      assert.deepEqual(Object.keys(JSON.parse(text)), ['Config', 'Peers']);
      assert.equal(formatDocument(parseDocument(text)), text);
    }),
  );
});

test('formatDocument matches the original default file byte for byte', () => {
  assert.equal(
    formatDocument(initialData()),
    '{\n  "Config": {\n    "maxpeers": 2,\n    "minrefillcandidates": 2\n  },\n  "Peers": {}\n}',
  );
});

test('parseDocument reads like Go json.Unmarshal: case-insensitive keys, unknown ignored', () => {
  const d = parseDocument(
    '{"config":{"MaxPeers":3,"extra":true},"PEERS":{"k":{"ID":"k","Port":"1","x":1}},"y":[]}',
  );
  assert.deepEqual(d.Config, { maxpeers: 3, minrefillcandidates: 0, numpeers: 0 });
  assert.equal(d.Peers.k.id, 'k');
  assert.equal(d.Peers.k.port, '1');
  assert.equal(d.Peers.k.name, '');
  for (const bad of ['[]', '{"Config":[]}', '{"Config":{"maxpeers":1.5}}', '{"Peers":{"a":1}}']) {
    assert.throws(() => parseDocument(bad), BootstrapProtocolError, bad);
  }
  assert.throws(() => parseDocument('{"Peers":{"a":{"port":7}}}'), /port is not a string/);
});

test('goQuote escapes like Go: HTML-safe, \\u00XX controls, U+2028/9, bad surrogates', () => {
  assert.equal(
    goQuote('a<b>&"\\\n\r\t\u0001\u2028'),
    '"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\r\\t\\u0001\\u2028"',
  );
  assert.equal(goQuote('\ud83d\ude00'), '"😀"');
  assert.equal(goQuote('\ud83d!'), '"\ufffd!"');
});
