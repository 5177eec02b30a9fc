/**
 * Differential test against the real Go decoder: thousands of msgpack bodies (Go vectors, the
 * D1–D20 table and mutants of both) are decoded by hashicorp/go-msgpack into memberlist's
 * struct shapes (fuzz/godecode, built here with Debian's Go in GOPATH mode) and by our
 * readers. Both must accept the same inputs with the same values, and reject the same inputs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { partMissing } from '@isopeer/test-support';
import {
  CodecError,
  lzwCompress,
  lzwDecompress,
  MsgpackReader,
  readAck,
  readAlive,
  readCompress,
  readErr,
  readIndirectPing,
  readNack,
  readPing,
  readPushNodeState,
  readPushPullHeader,
  readSuspectOrDead,
  readUserMsgHeader,
} from '../src/codec/index.js';
import { loadVectors, repoRoot, toHex } from './codec-fixtures.js';
import { mutate, Rng } from './fuzz-targets.js';

const GO_MSGPACK = '/usr/share/gocode/src/github.com/hashicorp/go-msgpack/codec';

function skipReason(): string | false {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const missing =
    go.status !== 0
      ? 'the Go toolchain (golang-go) is not installed'
      : !existsSync(GO_MSGPACK)
        ? `go-msgpack sources not found at ${GO_MSGPACK} (golang-github-hashicorp-go-msgpack-dev)`
        : null;
  return partMissing(missing);
}

const skip = skipReason();
const hex = (b: Uint8Array | null | undefined) => (b && b.length > 0 ? toHex(b) : null);
const str = (s: string | undefined) => toHex(new TextEncoder().encode(s ?? ''));
type Fields = Record<string, string | boolean | null>;

/** Our readers, with results in godecode's shape (Go field names, hex, decimal strings). */
const ours: Record<string, (r: MsgpackReader) => Fields> = {
  ping: (r) => {
    const p = readPing(r);
    return {
      SeqNo: String(p.seqNo),
      Node: str(p.node),
      SourceAddr: hex(p.sourceAddr),
      SourcePort: String(p.sourcePort ?? 0),
      SourceNode: str(p.sourceNode),
    };
  },
  indirectPingReq: (r) => {
    const p = readIndirectPing(r);
    return {
      SeqNo: String(p.seqNo),
      Target: hex(p.target),
      Port: String(p.port),
      Node: str(p.node),
      Nack: p.nack,
      SourceAddr: hex(p.sourceAddr),
      SourcePort: String(p.sourcePort ?? 0),
      SourceNode: str(p.sourceNode),
    };
  },
  ackResp: (r) => {
    const a = readAck(r);
    return { SeqNo: String(a.seqNo), Payload: hex(a.payload) };
  },
  nackResp: (r) => ({ SeqNo: String(readNack(r).seqNo) }),
  errResp: (r) => ({ Error: str(readErr(r).error) }),
  suspect: (r) => {
    const s = readSuspectOrDead(r, 'suspect');
    return { Incarnation: String(s.incarnation), Node: str(s.node), From: str(s.from) };
  },
  alive: (r) => {
    const a = readAlive(r);
    return {
      Incarnation: String(a.incarnation),
      Node: str(a.node),
      Addr: hex(a.addr),
      Port: String(a.port),
      Meta: hex(a.meta),
      Vsn: hex(a.vsn),
    };
  },
  pushPullHeader: (r) => {
    const h = readPushPullHeader(r);
    return { Nodes: String(h.nodes), UserStateLen: String(h.userStateLen), Join: h.join };
  },
  userMsgHeader: (r) => ({ UserMsgLen: String(readUserMsgHeader(r)) }),
  pushNodeState: (r) => {
    const n = readPushNodeState(r);
    return {
      Name: str(n.name),
      Addr: hex(n.addr),
      Port: String(n.port),
      Meta: hex(n.meta),
      Incarnation: String(n.incarnation),
      State: String(n.state),
      Vsn: hex(n.vsn),
    };
  },
  compress: (r) => {
    const c = readCompress(r);
    return { Algo: String(c.algo), Buf: hex(c.buf) };
  },
};

/** Body-only seeds per struct: the Go vectors of that type and the spec's D1–D20 inputs. */
function seeds(): Record<string, Uint8Array[]> {
  const V = loadVectors();
  const body = (k: string, from = 1) => V[k].subarray(from);
  const d = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
  const pushPull = V.V15;
  return {
    ping: [
      body('V1'),
      body('V2'),
      d('82a44e6f6465d9066e6f64652d62a55365714e6f07'),
      d('9305a66e6f64652d62a40a000001'),
    ],
    indirectPingReq: [body('V3'), body('V3b'), d('81a44e61636b01')],
    ackResp: [
      body('V4'),
      body('V4b'),
      body('V4c'),
      d('81a55365714ecf00000000ffffffff'),
      d('82a55365714e05a55365714e06'),
    ],
    nackResp: [body('V5')],
    errResp: [body('V9')],
    suspect: [body('V6'), body('V20'), body('V20b')],
    alive: [
      body('V7'),
      body('V7b'),
      body('V7c'),
      d('81a356736e96010502000000'),
      d('81a356736ec406010502000000'),
    ],
    pushPullHeader: [pushPull.subarray(1, 33), body('V20d')],
    userMsgHeader: [body('V17').subarray(0, 13)],
    pushNodeState: [pushPull.subarray(33, 97), pushPull.subarray(97, 166), d('81a5537461746563')],
    compress: [body('V12'), body('V12c'), body('V18')],
  };
}

/**
 * Whether a msgpack value declares a string/array/map length far beyond the bytes that
 * follow. go-msgpack allocates such lengths up front, so a 4 GiB header kills the Go process
 * with a fatal out-of-memory (a crash a hostile datagram can cause in a Go 0.2.2 node). Those
 * inputs are not sent to Go; we only check that our readers reject them.
 */
function overclaims(b: Uint8Array): boolean {
  let pos = 0;
  let pending = 1;
  const left = () => b.length - pos;
  const u = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (b[pos + i] ?? 0);
    pos += n;
    return v;
  };
  while (pending > 0 && pos < b.length) {
    pending--;
    const t = b[pos++];
    let len = 0;
    let items = 0;
    if (t >= 0x80 && t <= 0x8f) items = 2 * (t & 15);
    else if (t >= 0x90 && t <= 0x9f) items = t & 15;
    else if (t >= 0xa0 && t <= 0xbf) len = t & 31;
    else if (t === 0xc4 || t === 0xd9) len = u(1);
    else if (t === 0xc5 || t === 0xda) len = u(2);
    else if (t === 0xc6 || t === 0xdb) len = u(4);
    else if (t === 0xc7) len = u(1) + 1;
    else if (t === 0xc8) len = u(2) + 1;
    else if (t === 0xc9) len = u(4) + 1;
    else if (t === 0xdc) items = u(2);
    else if (t === 0xdd) items = u(4);
    else if (t === 0xde) items = 2 * u(2);
    else if (t === 0xdf) items = 2 * u(4);
    else if (t >= 0xca && t <= 0xd8) len = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 2, 3, 5, 9, 17][t - 0xca];
    if (len - left() > 65536 || items - left() > 65536) return true;
    pos += len;
    pending += items;
  }
  return false;
}

/**
 * Known Go decoder failure we do not copy: a duplicate key inside a map nested in the struct
 * (an unknown field's value) makes go-msgpack decode into the earlier, unaddressable value,
 * which fails for most value types. Go never sends that; we skip unknown values whole.
 * Returns whether `b` has such a map (keys compared by decoded value).
 */
function nestedDuplicateKeys(b: Uint8Array): boolean {
  let pos = 0;
  const u = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (b[pos + i] ?? 0);
    pos += n;
    return v;
  };
  // Returns a canonical form of the value at `pos` (for key comparison), or throws on junk.
  const value = (depth: number, found: { dup: boolean }): string => {
    if (pos >= b.length || depth > 200) throw new Error('end');
    const start = pos;
    const t = b[pos++];
    const bytes = (n: number) => {
      const s = toHex(b.subarray(pos, pos + n));
      pos += n;
      return `s${s}`;
    };
    const container = (n: number, map: boolean) => {
      const keys = new Set<string>();
      for (let i = 0; i < n; i++) {
        const k = value(depth + 1, found);
        if (map) {
          if (depth >= 1 && keys.has(k)) found.dup = true;
          keys.add(k);
          value(depth + 1, found);
        }
      }
      return `c${start}`;
    };
    if (t <= 0x7f) return `n${t}`;
    if (t >= 0xe0) return `n${t - 256}`;
    if (t <= 0x8f) return container(t & 15, true);
    if (t <= 0x9f) return container(t & 15, false);
    if (t <= 0xbf) return bytes(t & 31);
    switch (t) {
      case 0xc4:
      case 0xd9:
        return bytes(u(1));
      case 0xc5:
      case 0xda:
        return bytes(u(2));
      case 0xc6:
      case 0xdb:
        return bytes(u(4));
      case 0xcc:
        return `n${u(1)}`;
      case 0xcd:
        return `n${u(2)}`;
      case 0xce:
        return `n${u(4)}`;
      case 0xcf:
        return `n${u(8)}`;
      case 0xdc:
        return container(u(2), false);
      case 0xdd:
        return container(u(4), false);
      case 0xde:
        return container(u(2), true);
      case 0xdf:
        return container(u(4), true);
      default: {
        const sizes: Record<number, number> = {
          192: 0,
          194: 0,
          195: 0,
          202: 4,
          203: 8,
          208: 1,
          209: 2,
          210: 4,
          211: 8,
          212: 2,
          213: 3,
          214: 5,
          215: 9,
          216: 17,
        };
        pos += sizes[t] ?? 0;
        return `x${toHex(b.subarray(start, pos))}`;
      }
    }
  };
  const found = { dup: false };
  try {
    value(0, found);
  } catch {
    // Incomplete input: whatever was seen before the end still counts.
  }
  return found.dup;
}

/** Go `int` values beyond 2^53 are refused by us (no memberlist count can be that large). */
function expectedDifference(goFields: Fields | undefined, err: unknown): boolean {
  if (!(err instanceof CodecError) || !/64-bit value/.test(err.message) || !goFields) return false;
  return Object.values(goFields).some((v) => typeof v === 'string' && /^-?\d{16,}$/.test(v));
}

/**
 * Packs LZW codes LSB-first at the widths Go's reader expects (it widens after 511, 1023 and
 * 2047 codes and freezes at 12 bits), so tests can build streams Go's writer never emits.
 */
function packCodes(codes: number[]): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = 257;
  let overflow = 512;
  for (const code of codes) {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 255);
      bits >>>= 8;
      nBits -= 8;
    }
    if (code === 256) {
      width = 9;
      hi = 257;
      overflow = 512;
    } else if (code !== 257) {
      hi++;
      if (hi >= overflow) {
        if (width === 12) hi--;
        else {
          width++;
          overflow <<= 1;
        }
      }
    }
  }
  if (nBits > 0) out.push(bits & 255);
  return Uint8Array.from(out);
}

function runGo(bin: string, requests: Array<[string, Uint8Array]>) {
  const run = spawnSync(bin, [], {
    input: `${requests.map(([s, b]) => `${s} ${toHex(b)}`).join('\n')}\n`,
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const answers = run.stdout
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          ok: boolean;
          v?: unknown;
          err?: string;
          utf8?: boolean;
          panic?: boolean;
        },
    );
  assert.equal(answers.length, requests.length);
  return answers;
}

describe('our msgpack readers agree with the Go decoder', { skip }, () => {
  let dir = '';
  let bin = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'godecode-'));
    bin = join(dir, 'godecode');
    const build = spawnSync('go', ['build', '-o', bin, '.'], {
      cwd: join(repoRoot(), 'packages', 'memberlist', 'fuzz', 'godecode'),
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${dir}:/usr/share/gocode`, GOFLAGS: '' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(build.status, 0, `go build failed: ${build.stderr}`);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Longer runs: GO_DIFF_MUTANTS=50000 GO_DIFF_SEED=7 node --test dist/test/codec-go-diff.test.js
  const perStruct = Number(process.env.GO_DIFF_MUTANTS ?? 2000);
  const rngSeed = Number(process.env.GO_DIFF_SEED ?? 0x5eed);

  it(`on the seeds and ${perStruct} mutants of them per struct`, () => {
    const requests: Array<[string, Uint8Array]> = [];
    const rng = new Rng(rngSeed);
    for (const [struct, list] of Object.entries(seeds())) {
      for (const s of list) requests.push([struct, s]);
      for (let i = 0; i < perStruct; i++) {
        const a = list[rng.below(list.length)];
        const b = list[rng.below(list.length)];
        requests.push([struct, mutate(a, b, rng)]);
      }
    }
    // Inputs that could make Go allocate gigabytes are not sent to Go; ours must still not crash.
    let overclaimed = 0;
    for (let i = requests.length - 1; i >= 0; i--) {
      const [struct, input] = requests[i];
      if (!overclaims(input)) continue;
      overclaimed++;
      // (The scan is approximate, e.g. it reads e0-ff as integers, so ours may accept some.)
      try {
        ours[struct](new MsgpackReader(input));
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
      }
      requests.splice(i, 1);
    }
    const answers = runGo(bin, requests);

    const mismatches: string[] = [];
    let bothOk = 0;
    let bothRejected = 0;
    let goPanics = 0;
    let goQuirks = 0;
    requests.forEach(([struct, input], i) => {
      const go = answers[i] as {
        ok: boolean;
        v?: Fields;
        err?: string;
        utf8?: boolean;
        panic?: boolean;
      };
      if (go.panic) goPanics++;
      let mine: Fields | undefined;
      let err: unknown;
      try {
        mine = ours[struct](new MsgpackReader(input));
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        err = e;
      }
      const where = `${struct} ${toHex(input)}`;
      if (go.ok && mine) {
        bothOk++;
        // Invalid UTF-8 in a string: Go keeps the bytes, we substitute U+FFFD.
        const goV = normalise(go.v ?? {});
        const ourV = normalise(mine);
        if (go.utf8 && goV !== ourV) mismatches.push(`${where}: Go ${goV} vs ours ${ourV}`);
      } else if (!go.ok && err) {
        bothRejected++;
      } else if (go.ok && !expectedDifference(go.v, err)) {
        mismatches.push(`${where}: Go accepts, we reject: ${(err as Error).message}`);
      } else if (!go.ok && nestedDuplicateKeys(input)) {
        goQuirks++;
      } else if (!go.ok && !go.panic) {
        mismatches.push(`${where}: Go rejects (${go.err}), we accept ${JSON.stringify(mine)}`);
      }
    });
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} disagreements`);
    assert.ok(bothOk > 1000 && bothRejected > 1000, `accepted ${bothOk}, rejected ${bothRejected}`);
    assert.equal(goPanics, 0);
    assert.ok(overclaimed < requests.length);
    assert.ok(goQuirks < requests.length / 50, `${goQuirks} nested duplicate-key rejections`);
  });

  it('LZW: our decoder accepts exactly the streams Go compress/lzw accepts, with the same output', () => {
    const V = loadVectors();
    const rng = new Rng(rngSeed ^ 0x1234);
    const text = new TextEncoder().encode(
      'the quick brown fox jumps over the lazy dog '.repeat(40),
    );
    // Streams Go's writer never produces: the table fills up without a CLEAR (frozen at 12
    // bits), then codes up to the last entry, including 4095 right after the freeze (code ==
    // hi with no previous code: Go expands the stored entry rather than failing).
    const literals = Array.from({ length: 3900 }, (_, i) => (i * 7) & 255);
    const frozen = [256, ...literals, 4094, 4095, 65, 257];
    const frozenHi = [256, ...literals, 4095, 4095, 257];
    const seeds = [
      V.V12raw,
      V.V12b,
      Uint8Array.from([0x00, 0x03, 0x02]),
      lzwCompress(text),
      lzwCompress(new Uint8Array(9000)),
      packCodes(frozen),
      packCodes(frozenHi),
      packCodes([256, 65, 258, 259, 260, 257]),
      packCodes([65, 66, 258, 257]),
    ];
    const requests: Array<[string, Uint8Array]> = seeds.map((x) => ['lzw', x]);
    for (let i = 0; i < perStruct; i++) {
      const a = seeds[rng.below(seeds.length)];
      const b = seeds[rng.below(seeds.length)];
      requests.push(['lzw', mutate(a, b, rng)]);
    }
    const answers = runGo(bin, requests);
    const mismatches: string[] = [];
    let bothOk = 0;
    requests.forEach(([, input], i) => {
      const go = answers[i];
      let mine: string | undefined;
      let err: unknown;
      try {
        mine = toHex(lzwDecompress(input, 64 * 1024 * 1024));
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        err = e;
      }
      if (go.ok && mine !== undefined) {
        bothOk++;
        if (go.v !== mine) mismatches.push(`${toHex(input).slice(0, 80)}: outputs differ`);
      } else if (go.ok !== (mine !== undefined)) {
        mismatches.push(
          `${toHex(input).slice(0, 80)}: Go ${go.ok ? 'accepts' : `rejects (${go.err})`}, ours ${mine !== undefined ? 'accepts' : (err as Error).message}`,
        );
      }
    });
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} disagreements`);
    assert.ok(bothOk > 50, `only ${bothOk} streams accepted by both`);
    assert.equal(answers[5].ok && answers[6].ok, true, 'the frozen-table streams are valid for Go');
  });
});

/** Sorted keys; an empty string or byte slice equals nil (Go leaves zero-length slices nil). */
function normalise(o: Fields): string {
  const entries = Object.entries(o).map(([k, v]) => [k, v === '' ? null : v] as const);
  return JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}
