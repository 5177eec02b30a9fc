#!/usr/bin/env node
import { existsSync } from 'node:fs';
import path from 'node:path';
/**
 * Codec micro-benchmark: LZW compress/decompress of a typical gossip compound and of the
 * V12d stress input, and parsing a large plaintext push/pull that arrives in 64 KiB chunks
 * (the way net.ts reads a stream).
 *
 *   node bench/memberlist/codec-bench.mjs [path/to/memberlist/dist] [--json]
 *
 * The optional directory lets the same script measure an older build (e.g. one compiled from
 * git HEAD and copied aside) against the current one. Results go to stdout.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const dir =
  args.find((a) => !a.startsWith('--')) ??
  new URL('../../packages/memberlist/dist', import.meta.url).pathname;
// The codec is behind the internal entry point; builds older than it exported it from index.js.
const entry = ['src/internal.js', 'src/index.js'].map((f) => path.join(dir, f)).find(existsSync);
const m = await import(pathToFileURL(entry).href);

/** ~1,300 bytes: what a busy node piggy-backs: alive/suspect records of other nodes. */
function gossipCompound() {
  const parts = [];
  let size = 0;
  for (let i = 0; size < 1250; i++) {
    const msg =
      i % 4 === 3
        ? m.encodeMessage({
            type: m.MessageType.Suspect,
            body: { incarnation: 3 + i, node: `node-${100 + i * 7}`, from: `node-${200 + i}` },
          })
        : m.encodeMessage({
            type: m.MessageType.Alive,
            body: {
              incarnation: 1 + i,
              node: `node-${100 + i * 7}`,
              addr: new Uint8Array([127, 0, 0, 1]),
              port: 40000 + i * 13,
              meta: null,
              vsn: new Uint8Array([1, 5, 2, 2, 5, 4]),
            },
          });
    parts.push(msg.slice());
    size += msg.length + 2;
  }
  return m.makeCompound(parts);
}

function v12dInput() {
  const input = new Uint8Array(20000);
  for (let i = 0; i < input.length; i++) input[i] = ((i * 7) ^ (i >> 3)) & 0xff;
  return input;
}

/** A plaintext push/pull of about `bytes` bytes (records of ~100 bytes). */
function bigPushPull(bytes) {
  const nodes = [];
  const meta = new Uint8Array(40).fill(0x61);
  for (let i = 0; nodes.length * 110 < bytes; i++) {
    nodes.push({
      name: `node-${i.toString().padStart(7, '0')}`,
      addr: new Uint8Array([127, 0, (i >> 8) & 255, i & 255]),
      port: 7946,
      meta,
      incarnation: i,
      state: 0,
      vsn: new Uint8Array([1, 5, 2, 2, 5, 4]),
    });
  }
  return { bytes: m.encodePushPull({ join: false, nodes, userState: null }), count: nodes.length };
}

/**
 * Runs fn in batches of >= 20 ms for ~ms milliseconds after a warm-up and returns the fastest
 * batch's ns per call. The machine is shared, so the minimum (the run least disturbed by other
 * processes) is the stable figure; the median of batches is kept as well.
 */
function measure(fn, ms = 1500) {
  const warmEnd = performance.now() + ms / 3;
  while (performance.now() < warmEnd) fn();
  const samples = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    let n = 0;
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < 20) {
      fn();
      n++;
      t1 = performance.now();
    }
    samples.push(((t1 - t0) * 1e6) / n);
  }
  samples.sort((a, b) => a - b);
  return { min: samples[0], median: samples[samples.length >> 1] };
}

/** Mirrors net.ts: chunks appended to a doubling buffer, a parse attempt after each. */
function parseChunked(msg, chunkSize) {
  const opts = { verifyIncoming: false };
  const parser = m.StreamMessageParser ? new m.StreamMessageParser(opts) : null;
  let store = new Uint8Array(4096);
  let len = 0;
  for (let off = 0; off < msg.length; off += chunkSize) {
    const chunk = msg.subarray(off, Math.min(msg.length, off + chunkSize));
    if (len + chunk.length > store.length) {
      let cap = store.length;
      while (cap < len + chunk.length) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(store.subarray(0, len));
      store = grown;
    }
    store.set(chunk, len);
    len += chunk.length;
    const buf = store.subarray(0, len);
    const r = parser ? parser.tryParse(buf) : m.tryParseStreamMessage(buf, opts);
    if (r) return r;
  }
  throw new Error('push/pull did not parse');
}

const sizes = {};
/** name -> { min, median } in ns per operation */
const timings = {};
const gossip = gossipCompound();
const gossipZ = m.compressMessage(gossip);
sizes.gossip = gossip.length;
sizes.gossipCompressed = gossipZ.length;
timings['gossip compressMessage'] = measure(() => m.compressMessage(gossip));
timings['gossip decompressMessage'] = measure(() => m.decompressMessage(gossipZ));
// What the UDP send path does (compress, keep if smaller, CRC) and the receive path.
const pktOpts = { compress: true, crc: true, encrypt: false, encryptionVersion: 1 };
const pkt = m.encodePacket(gossip, pktOpts);
timings['gossip encodePacket'] = measure(() => m.encodePacket(gossip, pktOpts));
timings['gossip decodePacket+unpackMessages'] = measure(() =>
  m.unpackMessages(m.decodePacket(pkt, { verifyIncoming: false })),
);

const v12d = v12dInput();
const v12dZ = m.compressMessage(v12d);
sizes.v12dCompressed = v12dZ.length;
timings['V12d compressMessage'] = measure(() => m.compressMessage(v12d));
timings['V12d decompressMessage'] = measure(() => m.decompressMessage(v12dZ));

const pp = bigPushPull(5 * 1024 * 1024);
sizes.pushPull = pp.bytes.length;
sizes.pushPullNodes = pp.count;
const once = parseChunked(pp.bytes, 65536);
if (once.message.nodes.length !== pp.count) throw new Error('push/pull parsed wrongly');
timings['push/pull parse, 64 KiB chunks'] = measure(() => parseChunked(pp.bytes, 65536), 4000);
timings['push/pull parse, one chunk'] = measure(
  () => parseChunked(pp.bytes, pp.bytes.length),
  3000,
);

if (json) {
  console.log(JSON.stringify({ sizes, timings }));
} else {
  const f = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1e3).toFixed(2)} µs`);
  console.log(`build: ${dir}`);
  console.log(`gossip compound ${sizes.gossip} B (compressed ${sizes.gossipCompressed} B),`);
  console.log(`V12d 20000 B (compressed ${sizes.v12dCompressed} B),`);
  console.log(`plaintext push/pull ${sizes.pushPull} B with ${sizes.pushPullNodes} nodes`);
  for (const [name, t] of Object.entries(timings)) {
    console.log(
      `  ${name.padEnd(36)} min ${f(t.min).padStart(10)}  median ${f(t.median).padStart(10)}`,
    );
  }
}
