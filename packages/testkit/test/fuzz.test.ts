// Untrusted input never crashes the server or corrupts its state, and the script parser answers
// every text with a Script or a ScriptSyntaxError.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { TestCoordinator } from '../src/coordinator.js';
import { ScriptSyntaxError } from '../src/errors.js';
import { createTestHandler } from '../src/handler.js';
import { parseScript } from '../src/script.js';

const ENDPOINTS = [
  '/init',
  '/getcommand',
  '/getrun',
  '/removecommand',
  '/putresult',
  '/getresults',
  '/putevent',
  '/getevents',
  '/preparesummary',
  '/getsummary',
  '/next?peer=alice&wait=0',
  '/complete',
  '/putlog',
  '/timeline',
];

const body = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json().map((j) => j),
  fc
    .record(
      {
        id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        peer: fc.oneof(fc.constantFrom('alice', 'bob', ''), fc.string(), fc.integer()),
        source: fc.oneof(fc.constant('messagesView'), fc.string()),
        filter: fc.oneof(fc.string(), fc.array(fc.string())),
        event: fc.oneof(fc.string(), fc.boolean()),
        num_expected_events: fc.oneof(fc.integer(), fc.double(), fc.string()),
        expected: fc.oneof(fc.constantFrom('>=2', '1..3', '3..1'), fc.string()),
        seq: fc.oneof(fc.nat(5), fc.double(), fc.string()),
        status: fc.constantFrom('OK', 'FAILED', 'ok', ''),
        kind: fc.constantFrom('joined', 'left', 'x'),
        type: fc.constantFrom('line', 'control', 'y'),
        ts: fc.oneof(fc.integer(), fc.string()),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

test('random requests get 2xx/4xx answers, never 5xx, and the run stays consistent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'testkit-fuzz-'));
  try {
    await writeFile(join(dir, 'duo.cmd'), 'alice init\nbob init\nalice msg hi\n');
    const coord = new TestCoordinator({ dir, lineDeadlineMs: 60_000 });
    const handler = createTestHandler(coord);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...ENDPOINTS), body), { maxLength: 12 }),
        async (reqs) => {
          coord.resetRun();
          await handler(new Request('http://t/init', { method: 'POST', body: 'duo' }));
          for (const [path, b] of reqs) {
            const res = await handler(new Request(`http://t${path}`, { method: 'POST', body: b }));
            assert.ok(res.status < 500, `${path} ${b} -> ${res.status} ${await res.text()}`);
            await res.arrayBuffer().catch(() => undefined);
          }
          const run = coord.run;
          if (run) {
            // Lines only ever advance; finished lines all have a status.
            const finished = run.lines.filter((l) => l.status);
            assert.deepEqual(finished, run.lines.slice(0, finished.length));
            JSON.stringify(run.timeline());
          }
        },
      ),
      { numRuns: 150 },
    );
    coord.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the script parser answers any text with a Script or a ScriptSyntaxError', () => {
  const lines = fc.array(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        'alice init',
        '@kill bob',
        '@deadline 1s',
        '# c',
        '',
        '@partition a b',
        'a testfilter messagesView >=1 /x/',
      ),
      fc
        .tuple(fc.constantFrom('alice', '@stop', '@deadline', 'bob'), fc.string({ maxLength: 20 }))
        .map(([a, b]) => `${a} ${b}`),
    ),
    { maxLength: 10 },
  );
  fc.assert(
    fc.property(lines, (ls) => {
      try {
        const s = parseScript(ls.join('\n'), 'fuzz');
        assert.ok(s.lines.length > 0);
        for (const l of s.lines) assert.ok(l.lineNo >= 1 && l.lineNo <= ls.length);
      } catch (err) {
        assert.ok(err instanceof ScriptSyntaxError, String(err));
      }
    }),
    { numRuns: 500 },
  );
});
