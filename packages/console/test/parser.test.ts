import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ParseError, parseCommandLine, quoteWord, rawArguments, tokenize } from '../src/index.js';

describe('parseCommandLine', () => {
  test('splits on any whitespace and drops the leading slash', () => {
    assert.deepEqual(parseCommandLine('/broadcastadd  key\tvalue  '), {
      name: 'broadcastadd',
      args: ['key', 'value'],
    });
    assert.deepEqual(parseCommandLine('   /help'), { name: 'help', args: [] });
    assert.deepEqual(parseCommandLine('echo a b'), { name: 'echo', args: ['a', 'b'] });
  });

  test('double quotes group words, keep inner spacing and allow empty arguments', () => {
    assert.deepEqual(parseCommandLine('/msg "hello   world" x ""'), {
      name: 'msg',
      args: ['hello   world', 'x', ''],
    });
    assert.deepEqual(parseCommandLine('/a pre"fix suf"fix'), {
      name: 'a',
      args: ['prefix suffix'],
    });
    assert.deepEqual(parseCommandLine('/a "x""y"'), { name: 'a', args: ['xy'] });
  });

  test('escapes inside quotes; other backslashes stay literal', () => {
    assert.deepEqual(
      parseCommandLine('/a "say \\"hi\\"" "c:\\dir" "back\\\\slash" "n\\nl\\tt"').args,
      ['say "hi"', 'c:\\dir', 'back\\slash', 'n\nl\tt'],
    );
    assert.deepEqual(parseCommandLine('/a b\\x').args, ['b\\x']);
  });

  test('unterminated quote is a ParseError with the column of the opening quote', () => {
    const err = (() => {
      try {
        parseCommandLine('/echo "abc');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ParseError);
    assert.equal(err.code, 'CONSOLE_PARSE');
    assert.equal(err.column, 7);
    assert.match(err.message, /unterminated quote.*column 7/);
    assert.throws(
      () => parseCommandLine('  /a "x\\"'),
      (e: ParseError) => e.column === 6,
    );
  });

  test('empty lines and a missing name are ParseErrors', () => {
    for (const bad of ['', '   ', '/', '/   x', '/ ']) {
      assert.throws(() => parseCommandLine(bad), ParseError, JSON.stringify(bad));
    }
  });

  test('rawArguments keeps the text after the name as typed', () => {
    assert.equal(rawArguments('/msg   hello   "world"  '), 'hello   "world"');
    assert.equal(rawArguments('/quit'), '');
  });

  test('tokenize in partial mode reports an open quote and where the last word starts', () => {
    assert.deepEqual(tokenize('greet "ch', { partial: true }), {
      words: ['greet', 'ch'],
      openQuote: true,
      endsWithSpace: false,
      lastStart: 6,
    });
    assert.equal(tokenize('greet ', { partial: true }).endsWithSpace, true);
    assert.equal(tokenize('greet ', { partial: true }).lastStart, 6);
  });

  test('property: any string either parses or throws a ParseError, nothing else', () => {
    const chars = fc.constantFrom('a', 'b', ' ', '\t', '"', '\\', '/', 'n', '\n', 'é', '\u0000');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: chars })), (s) => {
        try {
          const r = parseCommandLine(s);
          assert.ok(r.name.length > 0);
          assert.ok(r.args.every((a) => typeof a === 'string'));
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
          assert.ok(err.column >= 1 && err.column <= s.length + 2);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('property: every well-formed line parses to the words it was built from', () => {
    // Pieces of a word as typed, with what they mean: plain text (a backslash is literal
    // there), and quoted parts with the escapes \" \\ \n \t and a backslash kept before any
    // other letter.
    const plain = fc
      .string({ unit: fc.constantFrom('a', 'Z', '7', '-', '/', '\\', 'é', '='), minLength: 1 })
      .map((t) => [t, t]);
    const quotedUnit = fc.constantFrom(
      ['a', 'a'],
      [' ', ' '],
      ['\t', '\t'],
      ['é', 'é'],
      ['\\"', '"'],
      ['\\\\', '\\'],
      ['\\n', '\n'],
      ['\\t', '\t'],
      ['\\q', '\\q'],
    );
    const quoted = fc
      .array(quotedUnit, { maxLength: 6 })
      .map((us) => [`"${us.map((u) => u[0]).join('')}"`, us.map((u) => u[1]).join('')]);
    const word = fc
      .array(fc.oneof(plain, quoted), { minLength: 1, maxLength: 3 })
      .map((ps) => ({ typed: ps.map((p) => p[0]).join(''), means: ps.map((p) => p[1]).join('') }));
    const gap = fc.stringMatching(/^[ \t]{1,3}$/);
    const line = fc.record({
      lead: fc.stringMatching(/^[ \t]{0,2}$/),
      slash: fc.boolean(),
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,9}$/),
      args: fc.array(fc.tuple(gap, word), { maxLength: 5 }),
      trail: fc.stringMatching(/^[ \t]{0,2}$/),
    });
    fc.assert(
      fc.property(line, (l) => {
        const text = `${l.lead}${l.slash ? '/' : ''}${l.name}${l.args.map(([g, w]) => g + w.typed).join('')}${l.trail}`;
        assert.deepEqual(parseCommandLine(text), {
          name: l.name,
          args: l.args.map(([, w]) => w.means),
        });
      }),
      { numRuns: 2000 },
    );
  });

  test('property: quoteWord round-trips through the parser', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), (words) => {
        const line = `/cmd ${words.map(quoteWord).join(' ')}`;
        assert.deepEqual(parseCommandLine(line).args, words);
      }),
      { numRuns: 1000 },
    );
  });
});
