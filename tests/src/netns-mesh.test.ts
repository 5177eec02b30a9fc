// The namespace network of `isopeer test --net netns`, against the real kernel (root, ip, nft):
// every peer on its own address, the host side reachable, nothing routed out, faults that do
// what they say, and nothing left behind — also after a runner was killed.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DEFAULT_STATE_DIR,
  NetFaults,
  NetnsMesh,
  parseScript,
  type RunnerLine,
} from '@isopeer/testkit';
import { exec, listOurs, readClaim } from '@isopeer/testkit/internal';
import { meshLeftovers, netnsSkip, repoRoot } from '../support/index.js';

const skip = await netnsSkip();
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netns-mesh-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs an ES module snippet with node inside namespace `ns`; resolves with its stdout. */
async function inNs(ns: string, code: string, timeoutMs = 15_000): Promise<string> {
  const r = await exec(
    'ip',
    ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code],
    {
      timeoutMs,
    },
  );
  return r.stdout.trim();
}

/** From inside `ns`: how a TCP connection to host:port ends (`connected`, an errno, `timeout`). */
function tcpTry(ns: string, host: string, port: number, ms = 1500): Promise<string> {
  return inNs(
    ns,
    `import net from 'node:net';
     const s = net.connect(${port}, '${host}');
     const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, ${ms});
     s.on('connect', () => { console.log('connected'); process.exit(0); });
     s.on('error', (e) => { console.log(e.code); process.exit(0); });`,
  );
}

/** Starts, inside `ns`, a TCP echo-once server and a UDP counter on addr:7000; returns them. */
function servers(ns: string, addr: string): ChildProcess {
  const code = `import net from 'node:net'; import dgram from 'node:dgram';
    net.createServer((s) => s.on('data', (d) => s.write(d)).on('end', () => s.end()).on('error', () => {})).listen(7000, '${addr}');
    let n = 0; const u = dgram.createSocket('udp4'); u.on('message', () => n++); u.bind(7000, '${addr}');
    process.stdin.on('data', () => process.stdout.write(n + '\\n'));
    process.stdout.write('ready\\n');`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Asks a `servers()` process how many datagrams it has counted so far. */
async function counted(p: ChildProcess): Promise<number> {
  const answer = once(p.stdout!, 'data');
  p.stdin!.write('?\n');
  return Number(
    String((await answer)[0])
      .trim()
      .split('\n')
      .pop(),
  );
}

/** Sends `n` datagrams from inside `ns` to host:7000, one per millisecond. */
function udpBurst(ns: string, host: string, n: number): Promise<string> {
  return inNs(
    ns,
    `import dgram from 'node:dgram';
     const s = dgram.createSocket('udp4');
     for (let i = 0; i < ${n}; i++) { s.send('x', 7000, '${host}'); await new Promise((r) => setTimeout(r, 1)); }
     setTimeout(() => process.exit(0), 300);`,
  );
}

const PEERS = ['a', 'b'];
const fault = (text: string) => parseScript(`a x\nb x\n${text}`, 'f').lines.at(-1) as RunnerLine;

test('each peer has its own address on one bridge, reaches the host side, and nothing else', {
  skip,
}, async () => {
  const mesh = await NetnsMesh.create();
  try {
    await mesh.addPeers(PEERS);
    const nsA = mesh.names.peerNamespace('a');
    assert.match(mesh.block.subnet, /^198\.(18|19)\.\d+\.0\/24$/, 'inside the RFC 2544 range');
    assert.notEqual(mesh.address('a'), mesh.address('b'));

    const http = createServer((_req, res) => res.end('hello from the host side'));
    await new Promise<void>((r) => http.listen(0, mesh.hostAddress, r));
    const port = (http.address() as { port: number }).port;
    try {
      assert.equal(
        await inNs(
          nsA,
          `console.log(await (await fetch('http://${mesh.hostAddress}:${port}/')).text())`,
        ),
        'hello from the host side',
      );
      const routes = (await exec('ip', ['-n', nsA, 'route', 'show'])).stdout;
      assert.doesNotMatch(routes, /default/, `no default route:\n${routes}`);
      assert.equal(routes.trim().split('\n').length, 1, `only the subnet's own route:\n${routes}`);
      const v6 = (await exec('ip', ['-n', nsA, '-6', 'address', 'show', 'dev', 'eth0'])).stdout;
      assert.equal(v6.trim(), '', 'no IPv6 address on the mesh link (rules are IPv4)');

      const real = Object.entries(networkInterfaces())
        .filter(([name]) => name !== 'lo' && !name.startsWith('isopeer-'))
        .flatMap(([, addrs]) => addrs ?? [])
        .filter((a) => a.family === 'IPv4')
        .map((a) => a.address);
      for (const target of [...real, '1.1.1.1', '192.0.2.77']) {
        assert.equal(await tcpTry(nsA, target, 80), 'ENETUNREACH', `${target} is unreachable`);
      }
      // A program that adds a default route through the host still gets nowhere: the host
      // forwards nothing from the mesh and accepts from it only what is addressed to its side.
      await exec('ip', ['-n', nsA, 'route', 'add', 'default', 'via', mesh.hostAddress]);
      const probe = createServer((_q, res) => res.end('should not be reached'));
      await new Promise<void>((r) => probe.listen(0, '0.0.0.0', r));
      const probePort = (probe.address() as { port: number }).port;
      try {
        for (const target of real) {
          assert.equal(await tcpTry(nsA, target, probePort), 'timeout', `${target} dropped`);
        }
        assert.equal(await tcpTry(nsA, '1.1.1.1', 80), 'timeout', 'not forwarded');
        assert.equal(await tcpTry(nsA, mesh.hostAddress, probePort), 'connected');
      } finally {
        probe.close();
      }
    } finally {
      http.close();
    }
  } finally {
    await mesh.destroy();
  }
});

test('kernel faults: one-way cuts, loss, rate limits and isolation do what they say; heal undoes them', {
  skip,
}, async () => {
  const mesh = await NetnsMesh.create();
  const procs: ChildProcess[] = [];
  try {
    await mesh.addPeers(PEERS);
    const [A, B] = [mesh.address('a'), mesh.address('b')];
    const [nsA, nsB] = PEERS.map((p) => mesh.names.peerNamespace(p));
    const [srvA, srvB] = [servers(nsA, A), servers(nsB, B)];
    procs.push(srvA, srvB);
    await Promise.all([once(srvA.stdout!, 'data'), once(srvB.stdout!, 'data')]);
    const faults = new NetFaults(PEERS);
    const apply = (text: string) => mesh.applyFaults(faults, faults.apply(fault(text)));
    const received = async (p: ChildProcess, send: () => Promise<unknown>) => {
      const before = await counted(p);
      await send();
      return (await counted(p)) - before;
    };

    await apply('@partition a -> b');
    assert.equal(await tcpTry(nsA, B, 7000), 'timeout', 'a cannot open a connection to b');
    assert.equal(await received(srvB, () => udpBurst(nsA, B, 50)), 0, "a's datagrams to b");
    assert.equal(await tcpTry(nsB, A, 7000), 'connected', 'b still reaches a (answers pass)');
    assert.equal(
      await inNs(
        nsB,
        `import net from 'node:net'; const s = net.connect(7000, '${A}', () => s.write('ping'));
           s.on('data', (d) => { console.log(String(d)); process.exit(0); });`,
      ),
      'ping',
      "a's answer on b's connection arrives",
    );
    assert.equal(await received(srvA, () => udpBurst(nsB, A, 50)), 50, "b's datagrams to a");

    await apply('@heal a -> b');
    assert.equal(await tcpTry(nsA, B, 7000), 'connected');
    await apply('@loss a 50%');
    const got = await received(srvB, () => udpBurst(nsA, B, 400));
    // Binomial(400, 0.5): mean 200, standard deviation 10; these bounds are 8 deviations wide.
    assert.ok(got > 120 && got < 280, `about half of 400 arrived: ${got}`);
    assert.equal(await received(srvA, () => udpBurst(nsB, A, 100)), 100, 'the other way is clean');

    await apply('@heal');
    await apply('@rate a 1mbit');
    const qdisc = (await exec('ip', ['netns', 'exec', nsA, 'tc', 'qdisc', 'show', 'dev', 'eth0']))
      .stdout;
    assert.match(qdisc, /tbf .*rate 1Mbit/);
    const ms = Number(
      await inNs(
        nsA,
        `import net from 'node:net'; const t0 = Date.now();
           const s = net.connect(7000, '${B}', () => s.end(Buffer.alloc(200_000)));
           s.on('data', () => {}); s.on('close', () => { console.log(Date.now() - t0); process.exit(0); });`,
        30_000,
      ),
    );
    // 200 kB at 1 Mbit/s is 1.6 s (the echo goes back unlimited); a lower bound holds on any load.
    assert.ok(ms >= 1200, `200 kB took ${ms} ms at 1mbit`);

    await apply('@heal a');
    await apply('@isolate b');
    assert.equal(await tcpTry(nsA, B, 7000), 'timeout');
    assert.equal(await tcpTry(nsB, A, 7000), 'timeout');
    assert.equal(
      (await received(srvA, () => udpBurst(nsB, A, 20))) +
        (await received(srvB, () => udpBurst(nsA, B, 20))),
      0,
    );
    await apply('@heal');
    assert.equal(await tcpTry(nsB, A, 7000), 'connected');
    for (const ns of [nsA, nsB]) {
      const tables = (await exec('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'])).stdout;
      assert.equal(tables.trim(), '', `no fault table left in ${ns}`);
      const q = (await exec('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'show', 'dev', 'eth0']))
        .stdout;
      assert.doesNotMatch(q, /tbf/);
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await mesh.destroy();
  }
});

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('destroy removes every namespace, link and table, the processes inside, and the claim', {
  skip,
}, async () => {
  const mesh = await NetnsMesh.create();
  const index = mesh.block.index;
  await mesh.addPeers(['a', 'b', 'c']);
  const ns = mesh.names.peerNamespace('b');
  // A process the runner does not know about, e.g. a peer's child that outlived it.
  const stray = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore' });
  const strayExit = once(stray, 'exit');
  await once(stray, 'spawn');
  assert.equal((await meshLeftovers(index)).length, 4 + 1 + 1, 'hub + 3 peers, link, table');
  await mesh.destroy();
  assert.deepEqual(await meshLeftovers(index), []);
  const claim = await readClaim(join(DEFAULT_STATE_DIR, `${index}.json`));
  assert.notEqual(
    claim?.pid,
    process.pid,
    'claim released (the block may be taken by another run)',
  );
  const [, signal] = (await strayExit) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
});

test('a runner killed with SIGKILL leaves its mesh behind; the next runner to start removes it', {
  skip,
}, async () => {
  const script = join(dir, 'doomed.mjs');
  const testkit = join(repoRoot, 'packages/testkit/dist/src/index.js');
  await writeFile(
    script,
    `import { spawn } from 'node:child_process';
       import { NetnsMesh } from ${JSON.stringify(testkit)};
       const mesh = await NetnsMesh.create();
       await mesh.addPeers(['doomed-a', 'doomed-b']);
       const p = spawn('ip', ['netns', 'exec', mesh.names.peerNamespace('doomed-a'), 'sleep', '600'], { stdio: 'ignore', detached: true });
       p.on('spawn', () => console.log(JSON.stringify({ index: mesh.block.index, pid: p.pid })));
       setInterval(() => {}, 1000);`,
  );
  const doomed = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(doomed.stdout, 'data')) as [Buffer];
  const { index, pid } = JSON.parse(String(line)) as { index: number; pid: number };
  doomed.kill('SIGKILL');
  await once(doomed, 'exit');
  assert.equal((await meshLeftovers(index)).length, 5, 'hub, 2 peers, link, table are left');
  assert.ok(running(pid), "the peer's process is still running");

  const next = await NetnsMesh.create();
  try {
    const stale = (await listOurs()).namespaces.filter((n) =>
      [`isopeer-${index}-doomed-a`, `isopeer-${index}-doomed-b`].includes(n),
    );
    assert.deepEqual(stale, [], "the dead runner's peer namespaces are gone");
    if (next.block.index !== index) assert.deepEqual(await meshLeftovers(index), []);
    // Killed while its namespace was removed; a zombie until someone reaps it counts as gone.
    const deadline = Date.now() + 5000;
    while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(running(pid), false, "the dead runner's peer process was killed");
  } finally {
    await next.destroy();
  }
  assert.deepEqual(await meshLeftovers(index), []);
});
