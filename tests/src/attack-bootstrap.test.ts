// Hostile clients against a real `isopeer bootstrap-server` process on loopback, replaying the
// attacks of the "hostile input" issue with the server's default limits: request smuggling,
// admin bypass, pipelining with close/half-close/SIGTERM (F1), slowloris, a CRLF drip (F4), a
// client that never reads (F5), idle sockets, oversized heads, and SIGKILL during a write storm.
// Everything runs on 127.0.0.1, bounded; the slow attacks run side by side, so the whole file
// takes about 25 s (deadlines leave room for a loaded machine: under 60 s in any case).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BootstrapData, parseDocument } from '@isopeer/bootstrap';
import { isopeerCli } from '../support/index.js';

const TOKEN = 'attack-admin-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
let dir: string;
const children = new Set<ChildProcess>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attack-bootstrap-'));
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

interface Server {
  url: string;
  port: number;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

/** Starts `isopeer bootstrap-server` on a free port with a file store and an admin token. */
async function startServer(file: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [isopeerCli, 'bootstrap-server', '--port', '0', '--store', `file:${file}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BOOTSTRAP_ADMIN_TOKEN: TOKEN },
    },
  );
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const lines: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (t: string) => lines.push(`stderr: ${t}`));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${lines}`)), 15_000);
    child.stdout?.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      const m = /^listening on (http:\/\/\S+) /.exec(lines[0] ?? '');
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', () => reject(new Error(`exited before listening: ${lines.join('\n')}`)));
  });
  return { url, port: Number(new URL(url).port), child, lines, exited };
}

async function post(
  server: Server,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(server.url + path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

const list = async (server: Server): Promise<BootstrapData> =>
  parseDocument((await post(server, '/list')).text);

const peerLine = (id: string, port = 7000) => `${id} ${id}-host 127.0.0.1 ${port} tcp 0 1557509977`;

const JOIN = (id: string, extra = '') => {
  const body = peerLine(id);
  return `POST /join HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
};

/** Waits for a condition with a deadline. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A raw connection that records what the server sends and when it closes. */
class Raw {
  data = Buffer.alloc(0);
  closed = false;
  readonly socket: Socket;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }
  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }
  get text(): string {
    return this.data.toString('latin1');
  }
  /** Status codes of the answers received so far. */
  get statuses(): number[] {
    return [...this.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  }
  waitClosed(ms: number): Promise<void> {
    return until('the server to close the connection', () => this.closed, ms);
  }
}

/** Socket file descriptors the server process holds (its listener included). */
async function socketFds(pid: number): Promise<number> {
  let n = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.startsWith('socket:')) n++;
  }
  return n;
}

describe('attacks on one running bootstrap server', () => {
  let server: Server;
  before(async () => {
    server = await startServer(join(dir, 'shared.json'));
    assert.equal((await post(server, '/config', '1000 2', AUTH)).status, 200);
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  test('request smuggling: every framing trick is refused and nothing hidden in it is applied', async () => {
    const smuggled = JOIN('smuggled');
    const cases = [
      `POST /join HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nContent-Length: 0x0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\nHost: x\nContent-Length: 0\n\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nContent-Length: 0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 0\r\n\r\n${smuggled}`,
      `POST /join HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\nContent-Length: 0\r\n\r\n${smuggled}`,
      `POST /join HTTP/2.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n${smuggled}`,
      `GET /join\r\n${smuggled}`,
    ];
    for (const bytes of cases) {
      const c = await Raw.open(server.port);
      c.socket.write(bytes, 'latin1');
      await c.waitClosed(5000);
      const statuses = c.statuses;
      assert.equal(statuses.length, 1, `one answer to ${JSON.stringify(bytes.slice(0, 80))}`);
      assert.ok(statuses[0] >= 400, `${statuses[0]} for ${JSON.stringify(bytes.slice(0, 80))}`);
    }
    assert.equal((await list(server)).Peers.smuggled, undefined, 'a smuggled join was applied');
  });

  test('admin endpoints: no variant without the token resets the list', async () => {
    await post(server, '/join', peerLine('keeper'));
    const variants: Array<[string, Record<string, string>, string?]> = [
      ['/reset', {}],
      ['/reset', { authorization: 'Bearer' }],
      ['/reset', { authorization: 'Bearer ' }],
      ['/reset', { authorization: `Bearer ${TOKEN}x` }],
      ['/reset', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ['/reset', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
      ['/reset', { authorization: TOKEN }],
      ['/reset', { authorization: `Token ${TOKEN}` }],
      ['/reset', { 'x-admin-token': TOKEN }],
      ['/reset', { cookie: `token=${TOKEN}` }],
      ['/reset?token=attack-admin-token', {}],
      ['/reset/', {}],
      ['/RESET', {}],
      ['//reset', {}],
      ['/reset%00', {}],
      ['/./reset', {}],
      ['/config', {}, '0 0'],
      ['/config', { authorization: 'Bearer wrong' }, '0 0'],
    ];
    for (const [path, headers, body] of variants) {
      const r = await post(server, path, body ?? '', headers);
      assert.ok(
        r.status === 401 || r.status === 404,
        `${path} ${JSON.stringify(headers)}: ${r.status}`,
      );
    }
    const d = await list(server);
    assert.ok(d.Peers.keeper, 'the list was reset without the token');
    assert.equal(d.Config.maxpeers, 1000, 'the config changed without the token');
  });

  test('F1: 10 pipelined joins, the last with Connection: close: 10 answers, 10 stored', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `f1-${i}`);
    const c = await Raw.open(server.port);
    c.socket.write(ids.map((id, i) => JOIN(id, i === 9 ? 'Connection: close\r\n' : '')).join(''));
    await c.waitClosed(5000);
    assert.deepEqual(c.statuses, Array(10).fill(200));
    const stored = (await list(server)).Peers;
    assert.deepEqual(
      ids.filter((id) => stored[id]),
      ids,
    );
    // Requests after the closing one are not applied.
    const d = await Raw.open(server.port);
    d.socket.write(JOIN('f1-last', 'Connection: close\r\n') + JOIN('f1-after'));
    await d.waitClosed(5000);
    assert.deepEqual(d.statuses, [200]);
    assert.equal((await list(server)).Peers['f1-after'], undefined);
  });

  test('F1: 100 pipelined joins then a half-close: 100 answers, 100 stored', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `half-${i}`);
    const c = await Raw.open(server.port);
    c.socket.end(ids.map((id) => JOIN(id)).join(''));
    await c.waitClosed(10_000);
    assert.equal(c.statuses.length, 100);
    const stored = (await list(server)).Peers;
    assert.equal(ids.filter((id) => stored[id]).length, 100);
  });

  test('slow attacks side by side: slowloris, CRLF drip, non-reading clients, idle sockets, oversized head', async () => {
    const baseline = await socketFds(server.child.pid as number);
    const timers: NodeJS.Timeout[] = [];
    try {
      // Slowloris: one header byte a second; 408 at the 10 s request timeout.
      const slowloris = (async () => {
        const c = await Raw.open(server.port);
        c.socket.write('POST /join HTTP/1.1\r\nHost: x\r\n');
        timers.push(setInterval(() => c.socket.write('X'), 1000));
        await c.waitClosed(25_000);
        assert.deepEqual(c.statuses, [408]);
      })();
      // CRLF drip (F4): an empty line every 2 s used to keep a connection open forever.
      const drip = (async () => {
        const c = await Raw.open(server.port);
        c.socket.write('\r\n');
        timers.push(setInterval(() => c.socket.write('\r\n'), 2000));
        await c.waitClosed(25_000);
        assert.deepEqual(c.statuses, [408]);
      })();
      // F5: ~3 MB of pipelined /list, answers never read. One client closes after the server
      // gives up, one never does; the server must release both sockets.
      const nonReader = async (closeAfterGivingUp: boolean) => {
        const c = await Raw.open(server.port);
        c.socket.pause();
        const req = 'POST /list HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n';
        c.socket.write(req.repeat(Math.ceil((3 * 1024 * 1024) / req.length)));
        await until(
          'the log line of the non-reading client',
          () => server.lines.some((l) => / 408 .* - the client did not read its answers/.test(l)),
          25_000,
        );
        if (closeAfterGivingUp) {
          c.socket.resume();
          c.socket.end();
        }
        return c;
      };
      const readers = Promise.all([nonReader(true), nonReader(false)]);
      // Idle sockets: closed after the 5 s keep-alive timeout.
      const idle = await Promise.all(Array.from({ length: 300 }, () => Raw.open(server.port)));
      const idleClosed = Promise.all(idle.map((c) => c.waitClosed(25_000)));
      // Oversized head: 431 at once.
      const big = await Raw.open(server.port);
      big.socket.write(`GET /list HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`);
      await big.waitClosed(5000);
      assert.deepEqual(big.statuses, [431]);

      const [, , clients] = await Promise.all([slowloris, drip, readers, idleClosed]);
      // Every connection the server gave up on is gone, also the one whose client never closes.
      await until(
        'the server to release every attacking socket',
        async () => (await socketFds(server.child.pid as number)) <= baseline,
        10_000,
      );
      for (const c of clients) c.socket.destroy();
    } finally {
      for (const t of timers) clearInterval(t);
    }
    // The service still answers.
    assert.equal((await post(server, '/ping')).text, 'OK');
  });
});

test('F1: SIGTERM with 50 pipelined joins in flight: every applied join was answered', async () => {
  const file = join(dir, 'sigterm.json');
  const server = await startServer(file);
  assert.equal((await post(server, '/config', '1000 2', AUTH)).status, 200);
  const c = await Raw.open(server.port);
  c.socket.write(Array.from({ length: 50 }, (_, i) => JOIN(`term-${i}`)).join(''));
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
  await c.waitClosed(5000);
  const stored = Object.keys(parseDocument(await readFile(file, 'utf8')).Peers);
  const answered = c.statuses.filter((s) => s === 200).length;
  assert.equal(stored.length, answered, `${stored.length} applied, ${answered} answered`);
});

test('SIGKILL during a write storm, 3 times: no acknowledged join is lost', async () => {
  const file = join(dir, 'storm.json');
  const acknowledged = new Set<string>();
  let server = await startServer(file);
  assert.equal((await post(server, '/config', '100000 2', AUTH)).status, 200);
  for (let round = 0; round < 3; round++) {
    let killed = false;
    const writers = Array.from({ length: 16 }, async () => {
      while (!killed) {
        const id = randomUUID();
        try {
          const r = await post(server, '/join', peerLine(id));
          if (r.status === 200) acknowledged.add(id);
        } catch {
          // The connection died with the server: not acknowledged.
        }
      }
    });
    const before = acknowledged.size;
    await until('acknowledged joins', () => acknowledged.size >= before + 50, 10_000);
    server.child.kill('SIGKILL');
    killed = true;
    await server.exited;
    await Promise.all(writers);
    server = await startServer(file);
    const stored = (await list(server)).Peers;
    const lost = [...acknowledged].filter((id) => stored[id] === undefined);
    assert.deepEqual(lost, [], `round ${round}: acknowledged joins lost`);
  }
  server.child.kill('SIGTERM');
  await server.exited;
});
