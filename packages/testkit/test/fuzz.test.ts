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

test('every well-formed script parses to exactly the lines, peers and directives it was built from', () => {
  const ws = fc.stringMatching(/^[ \t]{0,2}$/);
  const gap = fc.stringMatching(/^[ \t]{1,3}$/);
  const peer = fc.stringMatching(/^[A-Za-z0-9][\w.-]{0,10}$/);
  const command = fc
    .stringMatching(/^\/?[A-Za-z][\w-]{0,8}$/)
    .filter((c) => !/^\/?test(filter|wait)$/.test(c));
  const args = fc.array(fc.tuple(gap, fc.stringMatching(/^[!-~]{1,8}$/)), { maxLength: 4 });
  type Item =
    | { kind: 'noLine'; typed: string }
    | { kind: 'peer'; typed: string; peer: string; command: string }
    | { kind: 'runner'; typed: string; action: string; peers: string[] };
  // Lines that add no script line: blanks and comments (and, below, the directives).
  const blank = fc.oneof(
    ws.map((w): Item => ({ kind: 'noLine', typed: w })),
    fc
      .tuple(
        ws,
        fc.string({ maxLength: 20 }).filter((t) => !/[\r\n]/.test(t)),
      )
      .map(([w, t]): Item => ({ kind: 'noLine', typed: `${w}#${t}` })),
  );
  const peerLine = fc.tuple(ws, peer, gap, command, args, ws).map(([a, p, g, c, as, z]): Item => {
    const cmd = c + as.map(([sp, w]) => sp + w).join('');
    return { kind: 'peer', typed: `${a}${p}${g}${cmd}${z}`, peer: p, command: cmd };
  });
  const runnerLine = fc
    .tuple(
      ws,
      fc.constantFrom('kill', 'stop', 'cont', 'start', 'partition', 'heal'),
      gap,
      fc.uniqueArray(peer, { minLength: 2, maxLength: 2 }),
      gap,
      ws,
    )
    .map(([a, action, g1, [p, q], g2, z]): Item => {
      const two = action === 'partition' || action === 'heal';
      const peers = two ? [p, q] : [p];
      return { kind: 'runner', typed: `${a}@${action}${g1}${peers.join(g2)}${z}`, action, peers };
    });
  const duration = fc
    .tuple(
      fc.integer({ min: 1, max: 5000 }),
      fc.constantFrom(['ms', 1], ['s', 1000], ['m', 60_000]),
    )
    .map(([n, [unit, ms]]) => ({ text: `${n}${unit}`, ms: n * (ms as number) }));
  const script = fc.record({
    items: fc.array(fc.oneof(blank, peerLine, runnerLine), { maxLength: 12 }),
    last: fc.oneof(peerLine, runnerLine),
    deadline: fc.option(fc.tuple(duration, fc.nat())),
    settle: fc.option(fc.tuple(duration, fc.nat())),
    crlf: fc.boolean(),
  });
  fc.assert(
    fc.property(script, (sc) => {
      const items = [...sc.items, sc.last];
      for (const [name, d] of [
        ['deadline', sc.deadline],
        ['settle', sc.settle],
      ] as const) {
        if (d)
          items.splice(d[1] % (items.length + 1), 0, {
            kind: 'noLine',
            typed: `@${name} ${d[0].text}`,
          });
      }
      // A peer named only by fault lines is a script error (a typo): give each one a line.
      const declared = new Set(
        items.flatMap((it) =>
          it.kind === 'peer'
            ? [it.peer]
            : it.kind === 'runner' && it.action === 'start'
              ? it.peers
              : [],
        ),
      );
      for (const it of [...items]) {
        if (it.kind !== 'runner') continue;
        for (const p of it.peers) {
          if (declared.has(p)) continue;
          declared.add(p);
          items.push({ kind: 'peer', typed: `${p} /echo`, peer: p, command: '/echo' });
        }
      }
      const text = items.map((i) => i.typed).join(sc.crlf ? '\r\n' : '\n');
      const lines: unknown[] = [];
      const peers: string[] = [];
      const lateStart: string[] = [];
      items.forEach((it, i) => {
        if (it.kind === 'noLine') return;
        const named = it.kind === 'peer' ? [it.peer] : it.peers;
        for (const p of named) {
          if (peers.includes(p)) continue;
          peers.push(p);
          if (it.kind === 'runner' && it.action === 'start') lateStart.push(p);
        }
        lines.push(
          it.kind === 'peer'
            ? {
                kind: 'peer',
                lineNo: i + 1,
                peer: it.peer,
                command: it.command,
                text: `${it.peer} ${it.command}`,
              }
            : {
                kind: 'runner',
                lineNo: i + 1,
                action: it.action,
                peers: it.peers,
                text: `@${it.action} ${it.peers.join(' ')}`,
              },
        );
      });
      const expected: Record<string, unknown> = {
        name: 'valid',
        lines,
        peers,
        lateStart,
        peerCommands: {},
      };
      if (sc.deadline) expected.lineDeadlineMs = sc.deadline[0].ms;
      if (sc.settle) expected.settleMs = sc.settle[0].ms;
      assert.deepEqual(parseScript(text, 'valid'), expected);
    }),
    { numRuns: 500 },
  );
});
