// Issue 7, encryption version 0 (PKCS#7-padded AES-GCM, what Go pairs with protocol version 1)
// against real Go memberlist 0.2.2. Decoding Go's recorded `encv0-` frames is covered by
// packages/memberlist/test/codec-wire.test.ts; what is left is the other direction: frames the TS
// library seals with version 0 must open in Go. Protocol 1 ignores advertised ports, so two
// protocol-1 nodes cannot run on one host as a cluster; the Go side here is a single protocol-1
// node (a tiny program built like the reference peer) that reports what it decrypted, and the
// TS node talks to it: a join (push/pull over a v0 stream, whose v0 reply TS must open too), a
// best-effort message (v0 datagram) and a reliable message (v0 stream).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import {
  createMemberlist,
  defaultLocalConfig,
  Keyring,
  type Memberlist,
  NetTransport,
  type StreamConn,
} from '@isopeer/memberlist';
import { goPeerSkip } from '../support/go-peer.js';
import { repoRoot } from '../support/paths.js';

const skip = await goPeerSkip();

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'); // the encv0- captures' key

// A protocol-1 memberlist node that prints one JSON line per event: ready, msg, merge.
const GO_SOURCE = `package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io/ioutil"
	"os"
	"sync"

	"github.com/hashicorp/memberlist"
)

var mu sync.Mutex

func emit(ev map[string]interface{}) {
	b, _ := json.Marshal(ev)
	mu.Lock()
	os.Stdout.Write(append(b, '\\n'))
	mu.Unlock()
}

type delegate struct{}

func (delegate) NodeMeta(int) []byte { return nil }
func (delegate) NotifyMsg(b []byte) {
	emit(map[string]interface{}{"event": "msg", "data": string(b)})
}
func (delegate) GetBroadcasts(int, int) [][]byte { return nil }
func (delegate) LocalState(bool) []byte           { return []byte("state-of-go-v0") }
func (delegate) MergeRemoteState(b []byte, join bool) {
	emit(map[string]interface{}{"event": "merge", "data": string(b), "join": join})
}

func main() {
	key, err := base64.StdEncoding.DecodeString(os.Args[1])
	if err != nil {
		panic(err)
	}
	conf := memberlist.DefaultLocalConfig()
	conf.Name = "go-v0"
	conf.BindAddr = "127.0.0.1"
	conf.BindPort = 0
	conf.ProtocolVersion = 1
	conf.SecretKey = key
	conf.Delegate = delegate{}
	conf.LogOutput = ioutil.Discard
	m, err := memberlist.Create(conf)
	if err != nil {
		panic(err)
	}
	emit(map[string]interface{}{"event": "ready", "port": m.LocalNode().Port})
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
	}
	m.Shutdown()
}
`;

/** Builds the program once per source version (shared Go build cache, atomic rename). */
function buildGoProgram(): string {
  const hash = createHash('sha256').update(GO_SOURCE).digest('hex').slice(0, 16);
  const out = join(repoRoot, '.cache', 'v0peer', hash);
  const bin = join(out, 'v0peer');
  if (existsSync(bin)) return bin;
  const src = join(out, 'gopath', 'src', 'v0peer');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'main.go'), GO_SOURCE);
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('go', ['build', '-o', tmp, '.'], {
    cwd: src,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${join(out, 'gopath')}:/usr/share/gocode`,
      GOCACHE: join(repoRoot, '.cache', 'go-build'),
      GOPROXY: 'off',
      GOFLAGS: '',
      CGO_ENABLED: '0',
    },
  });
  if (r.status !== 0) throw new Error(`go build of the protocol-1 peer failed: ${r.stderr}`);
  renameSync(tmp, bin);
  return bin;
}

interface GoEvent {
  event: string;
  [k: string]: unknown;
}

describe('security: encryption version 0 frames from TS open in Go', { skip }, () => {
  let ts: Memberlist | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  after(async () => {
    await ts?.shutdown();
    child?.kill('SIGKILL');
  });

  test('join, best-effort and reliable messages sealed with version 0 are decrypted by Go', async () => {
    const bin = buildGoProgram();
    const go = spawn(bin, [KEY.toString('base64')], { stdio: ['pipe', 'pipe', 'inherit'] });
    child = go;
    const events: GoEvent[] = [];
    const waiters = new Set<() => void>();
    createInterface({ input: go.stdout! }).on('line', (l) => {
      events.push(JSON.parse(l) as GoEvent);
      for (const w of waiters) w();
    });
    const waitGo = (pred: (e: GoEvent) => boolean, what: string) =>
      new Promise<GoEvent>((resolve, reject) => {
        const check = () => {
          const e = events.find(pred);
          if (e) {
            clearTimeout(t);
            waiters.delete(check);
            resolve(e);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`Go peer: timed out waiting for ${what}; saw ${JSON.stringify(events)}`),
          );
        }, 15_000);
        waiters.add(check);
        check();
      });
    const ready = await waitGo((e) => e.event === 'ready', 'ready');
    const goAddr = `127.0.0.1:${ready.port}`;

    // The TS node seals everything with version 0 (protocol 1); the wrappers record the
    // version byte of what actually leaves the socket.
    // Protocol 1 assumes every node uses the same port (a receiver replaces advertised ports by
    // its own bind port), so the TS node takes Go's port number on another loopback address.
    const transport = await NetTransport.create({
      bindAddr: '127.0.0.2',
      bindPort: Number(ready.port),
    });
    const datagramVersions: number[] = [];
    const streamVersions: number[] = [];
    const sendPacket = transport.sendPacket.bind(transport);
    transport.sendPacket = (to, data) => {
      if (to === goAddr) datagramVersions.push(data[0]);
      return sendPacket(to, data);
    };
    const dialStream = transport.dialStream.bind(transport);
    transport.dialStream = async (to, timeoutMs): Promise<StreamConn> => {
      const conn = await dialStream(to, timeoutMs);
      const write = conn.write.bind(conn);
      let first = true;
      conn.write = (data) => {
        // Encrypted stream frame: 0a | uint32 length | version | nonce | ...
        if (first && data[0] === 0x0a) streamVersions.push(data[5]);
        first = false;
        return write(data);
      };
      return conn;
    };
    const merged: string[] = [];
    ts = await createMemberlist(
      {
        ...defaultLocalConfig(),
        name: 'ts-v0',
        bindAddr: '127.0.0.2',
        bindPort: Number(ready.port),
        protocolVersion: 1,
        keyring: new Keyring([KEY]),
      },
      {
        transport,
        delegate: {
          localState: () => new TextEncoder().encode('state-of-ts-v0'),
          mergeRemoteState: (b) => merged.push(new TextDecoder().decode(b)),
        },
      },
    );

    // Join: Go opens our v0 push/pull and merges our state; we open its v0 reply.
    assert.equal(await ts.join([goAddr]), 1);
    const m = await waitGo((e) => e.event === 'merge', 'merge');
    assert.equal(m.data, 'state-of-ts-v0');
    assert.deepEqual(merged, ['state-of-go-v0']);
    // Each side recorded the other at the right address, by protocol 1's shared-port rule.
    assert.equal(ts.members().find((x) => x.name === 'go-v0')?.port, ready.port);

    await ts.sendBestEffort('go-v0', new TextEncoder().encode('udp-v0-hello'));
    await waitGo((e) => e.event === 'msg' && e.data === 'udp-v0-hello', 'best-effort message');
    await ts.sendReliable('go-v0', new TextEncoder().encode('tcp-v0-hello'));
    await waitGo((e) => e.event === 'msg' && e.data === 'tcp-v0-hello', 'reliable message');

    assert.ok(
      datagramVersions.length > 0 && datagramVersions.every((v) => v === 0),
      `${datagramVersions}`,
    );
    assert.ok(
      streamVersions.length >= 2 && streamVersions.every((v) => v === 0),
      `${streamVersions}`,
    );
    // Go, which knows our address now, probes us with its own version-0 datagrams.
    const node = ts;
    const deadline = Date.now() + 10_000;
    while (node.metrics().packets.in === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(node.metrics().packets.in > 0, 'Go sent us datagrams');
    assert.deepEqual(node.metrics().dropped, {}, 'TS opened every Go frame');
    assert.ok(node.members().every((x) => x.state === 'alive'));
  });
});
