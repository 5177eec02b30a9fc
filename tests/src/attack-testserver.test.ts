// Replays the attacks of issue 12 on the test server (F8 unbounded events, F9 routing from the
// Host header, path traversal on /init) against a real `isopeer test-server` process on
// loopback, with its default limits. Bounded: well under 60 s on a loaded 2-core machine.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { DEFAULT_RUN_LIMITS } from '@isopeer/testkit';
import { isopeerCli } from '../support/index.js';

let dir: string;
let server: ChildProcess;
let url: string;
let port: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attack-testserver-'));
  await writeFile(join(dir, 'duo.cmd'), 'alice init\nbob init\n');
  server = spawn(process.execPath, [isopeerCli, 'test-server', '--port', '0', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rl = createInterface({ input: server.stdout! });
  const [line] = (await Promise.race([
    once(rl, 'line'),
    once(server, 'exit').then(() => {
      throw new Error('test-server exited before listening');
    }),
  ])) as [string];
  const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(line);
  assert.ok(m, line);
  url = m[1];
  port = Number(m[2]);
});
after(async () => {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
});

async function post(path: string, body = ''): Promise<{ status: number; text: string }> {
  const res = await fetch(url + path, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

/** Sends `n` requests, `width` at a time; counts answers by status. */
async function flood(n: number, width: number, make: (i: number) => [string, string]) {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const [path, body] = make(next++);
      const { status } = await post(path, body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return statuses;
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => {
      got += d;
    });
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
    sock.write(request);
  });
}

test('F8: a flood of distinct filters and large events is refused past the limits; memory stays bounded', async () => {
  assert.equal((await post('/init', 'duo')).status, 200);
  const rss0 = await rssBytes(server.pid!);
  const filters = await flood(DEFAULT_RUN_LIMITS.maxFilters * 3, 16, (i) => [
    '/putevent',
    JSON.stringify({ peer: 'alice', source: 'messagesView', filter: `distinct filter ${i}` }),
  ]);
  assert.equal(filters.get(200), DEFAULT_RUN_LIMITS.maxFilters, JSON.stringify([...filters]));
  assert.equal(filters.get(409), DEFAULT_RUN_LIMITS.maxFilters * 2);
  const refused = await post(
    '/putevent',
    JSON.stringify({ peer: 'alice', source: 'messagesView', filter: 'yet another' }),
  );
  assert.match(refused.text, /\(maxFilters\)/);
  // 4 KB events into an existing filter until the byte budget is used up, and well past it.
  const event = 'e'.repeat(4000);
  const perRun = Math.ceil(DEFAULT_RUN_LIMITS.maxStoredBytes / event.length);
  const events = await flood(perRun + 1000, 16, () => [
    '/putevent',
    JSON.stringify({
      peer: 'alice',
      source: 'messagesView',
      filter: 'distinct filter 0',
      event,
    }),
  ]);
  assert.ok((events.get(200) ?? 0) < perRun, JSON.stringify([...events]));
  assert.ok((events.get(409) ?? 0) >= 1000, JSON.stringify([...events]));
  assert.equal([...events.keys()].filter((s) => s !== 200 && s !== 409).length, 0);
  const all = await post('/getevents');
  assert.equal(all.status, 200);
  assert.ok(all.text.length < 1 << 20, `/getevents answered ${all.text.length} bytes`);
  const timeline = await post('/timeline');
  assert.ok(
    timeline.text.length < 2 * DEFAULT_RUN_LIMITS.maxStoredBytes,
    `/timeline answered ${timeline.text.length} bytes`,
  );
  const grown = (await rssBytes(server.pid!)) - rss0;
  // Bounded by the run's 8 MiB budget plus allocator slack, not by what was sent (~20 MB).
  assert.ok(grown < 120 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  await post('/resetrun');
});

test('F9: `POST /getrun` with `Host: x/init?` answers /getrun and starts no run', async () => {
  const answer = await raw(
    'POST /getrun HTTP/1.0\r\nHost: x/init?\r\nContent-Length: 3\r\nConnection: close\r\n\r\nduo',
  );
  assert.match(answer, /^HTTP\/1\.1 200[\s\S]*\r\n\r\n\{\}$/);
  assert.equal((await post('/getrun')).text, '{}');
});

test('path traversal on /init answers 400', async () => {
  for (const name of ['../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', 'a/../duo']) {
    const r = await post('/init', name);
    assert.equal(r.status, 400, `${name}: ${r.text}`);
  }
  assert.equal((await post('/init', 'duo')).status, 200, 'a good name still works');
  assert.equal(server.exitCode, null, 'the server survived every attack');
});
