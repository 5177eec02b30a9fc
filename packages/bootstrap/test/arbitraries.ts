// fast-check generators shared by the codec tests.
import fc from 'fast-check';
import { emptyPeers } from '../src/semantics.js';
import type { BootstrapData } from '../src/types.js';

// Strings full of what JSON encoders disagree on: HTML characters, controls, U+2028/9,
// astral characters and unpaired surrogates (U+FFFD once Go has decoded them).
export const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '<',
      '>',
      '&',
      '"',
      '\\',
      '\u2028',
      '\u2029',
      '\ud800',
      '\udfff',
      '😀',
      '\u007f',
    ),
    fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 8,
});

export const docArb: fc.Arbitrary<BootstrapData> = fc
  .record({
    maxpeers: fc.nat(1000),
    minrefillcandidates: fc.nat(1000),
    peers: fc.array(
      fc.record({
        key: nasty,
        id: nasty,
        name: nasty,
        ip: nasty,
        port: nasty,
        protocol: nasty,
        status: nasty,
        timestamp: nasty,
      }),
      { maxLength: 5 },
    ),
  })
  .map(({ maxpeers, minrefillcandidates, peers }) => {
    const Peers = emptyPeers();
    // Keys as they arrive over the wire: well-formed (two lone surrogates would otherwise
    // collapse into one U+FFFD key).
    for (const { key, ...p } of peers) Peers[Buffer.from(key).toString()] = p;
    return {
      Config: { maxpeers, minrefillcandidates, numpeers: Object.keys(Peers).length },
      Peers,
    };
  });
