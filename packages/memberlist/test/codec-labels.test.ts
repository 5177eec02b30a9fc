/**
 * Labelled traffic between Go memberlist v0.5.4 nodes (test/vectors/wire-labels, copied from
 * the reference shelf): every datagram and stream is decoded by our pipeline, compared with the
 * reference decoder's annotation, and encoded again from the decoded values (same layers,
 * the recorded nonce) to the recorded bytes exactly. Encrypted ones must also fail to open
 * with the label left out of the AAD.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addLabelHeader,
  CodecError,
  checkInboundLabel,
  compressMessage,
  decodeMessage,
  decodePacket,
  decompressMessage,
  decryptPayload,
  encodeAckStream,
  encodeErr,
  encodeLabelHeader,
  encodeMessage,
  encodePacket,
  encodePingStream,
  encodePushPull,
  encodeStreamMessage,
  encodeUserStream,
  Keyring,
  LABEL_HEADER_TYPE,
  type LabelPolicy,
  MessageType,
  makeCompound,
  NONCE_SIZE,
  readLabelHeader,
  type StreamMessage,
  StreamMessageParser,
  splitCompound,
  tryParseStreamMessage,
  unpackMessages,
  VERSION_SIZE,
} from '../src/codec/index.js';
import { type Expected, toHex, type WireCapture } from './codec-fixtures.js';
import {
  KEY16,
  LABEL_PREFIXES,
  LABEL255,
  loadLabelCaptures,
  TEAM1,
  utf8,
} from './label-fixtures.js';
import { normalise, packetEvents, streamEvents } from './wire-events.js';

const FRAME_HEADER = 5;

const captures = loadLabelCaptures();
const phases = captures.filter((c) => c.prefix !== 'compat-');

function phaseLabel(c: WireCapture): Uint8Array {
  return c.prefix === 'label255-' ? LABEL255 : TEAM1;
}

/** Compression was on in the plain, enc16- and enc32- phases. */
function phaseCompresses(c: WireCapture): boolean {
  return ['', 'enc16-', 'enc32-'].includes(c.prefix);
}

function keyringOf(c: WireCapture): Keyring | undefined {
  return c.key ? new Keyring([c.key]) : undefined;
}

function policy(label: Uint8Array): LabelPolicy {
  return { label, skipInboundCheck: false };
}

/** Encodes a decoded message again, layer by layer (compound parts and compression nest). */
function rebuild(msg: Uint8Array): Uint8Array {
  if (msg[0] === MessageType.Compound) return makeCompound(splitCompound(msg).parts.map(rebuild));
  if (msg[0] === MessageType.Compress) return compressMessage(rebuild(decompressMessage(msg)));
  return encodeMessage(decodeMessage(msg));
}

function encodeStreamPlain(m: StreamMessage): Uint8Array {
  switch (m.type) {
    case 'pushPull':
      return encodePushPull({ join: m.join, nodes: m.nodes, userState: m.userState });
    case 'user':
      return encodeUserStream(m.payload);
    case 'ping':
      return encodePingStream(m.body);
    case 'ack':
      return encodeAckStream(m.body);
    case 'err':
      return encodeErr(m.error);
  }
}

/** Decodes, checks and re-encodes one datagram sent with `label`. */
function checkPacket(c: WireCapture, label: Uint8Array, compress: boolean): void {
  const keyring = keyringOf(c);
  const header = readLabelHeader(c.bytes, true, 'packet');
  assert.ok(header);
  assert.deepEqual(header.label, label, 'the header carries the label');
  const plain = decodePacket(c.bytes, {
    keyring,
    verifyIncoming: true,
    labelPolicy: policy(label),
  });
  const r = unpackMessages(plain);
  assert.deepEqual(r.dropped, []);
  assert.deepEqual(normalise(packetEvents(r.messages)), normalise(c.expected));

  const sealed = c.bytes.subarray(header.length);
  let opened = sealed;
  if (keyring) {
    opened = decryptPayload(keyring, sealed, label);
    // The AAD check: without the label the tag does not verify.
    assert.throws(() => decryptPayload(keyring, sealed), { code: 'decrypt-failed' });
  }
  const crc = opened[0] === MessageType.HasCrc;
  const wasCompressed = plain[0] === MessageType.Compress;
  const content = rebuild(wasCompressed ? decompressMessage(plain) : plain);
  const wire = encodePacket(content, {
    // The phase's setting: the encoder must make Go's "only if smaller" choice itself.
    compress,
    crc,
    keyring,
    encrypt: keyring !== undefined,
    encryptionVersion: 1,
    label,
    nonce: keyring ? sealed.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE) : undefined,
  });
  assert.equal(toHex(wire), toHex(c.bytes), 're-encoded byte for byte');
}

/**
 * Decodes, checks and re-encodes one direction of a stream. `header`: the dialer's direction,
 * which starts with the label header; `aad`: the label the sender sealed with.
 */
function checkStream(
  bytes: Uint8Array,
  expected: Expected[],
  opts: { header: Uint8Array | null; aad: Uint8Array; keyring?: Keyring; compress: boolean },
): void {
  let body = bytes;
  const header = readLabelHeader(bytes, true, 'stream');
  assert.ok(header);
  assert.deepEqual(header.label, opts.header, 'label header as expected (none on replies)');
  body = bytes.subarray(header.length);
  const { keyring } = opts;
  const parsed = tryParseStreamMessage(body, {
    keyring,
    verifyIncoming: keyring !== undefined,
    label: opts.aad,
  });
  assert.ok(parsed, 'the whole message is there');
  assert.equal(parsed.consumed, body.length, 'and nothing else');
  assert.deepEqual(normalise(streamEvents(parsed.message)), normalise(expected));
  let nonce: Uint8Array | undefined;
  if (keyring) {
    const start = FRAME_HEADER + VERSION_SIZE;
    nonce = body.subarray(start, start + NONCE_SIZE);
    if (opts.aad.length > 0) {
      // The AAD check: the frame header alone does not authenticate it.
      assert.throws(() => tryParseStreamMessage(body, { keyring, verifyIncoming: true }), {
        code: 'decrypt-failed',
      });
    }
  }
  const message = encodeStreamMessage(encodeStreamPlain(parsed.message), {
    compress: opts.compress,
    keyring,
    encrypt: keyring !== undefined,
    encryptionVersion: 1,
    label: opts.aad,
    nonce,
  });
  const wire = opts.header ? addLabelHeader(opts.header, message) : message;
  assert.equal(toHex(wire), toHex(bytes), 're-encoded byte for byte');
}

describe('labelled Go v0.5.4 traffic: decode and re-encode byte for byte', () => {
  it('has all 83 vectors, every phase', () => {
    assert.equal(captures.length, 83);
    assert.deepEqual(
      [...new Set(captures.map((c) => c.prefix))].sort(),
      ['', ...LABEL_PREFIXES].sort(),
    );
    assert.equal(captures.filter((c) => c.key).length, 37);
  });

  for (const c of phases) {
    it(c.file, () => {
      assert.ok(c.expected.length > 0, 'the capture lists decoded values');
      const label = phaseLabel(c);
      const compress = phaseCompresses(c);
      if (c.transport === 'udp') {
        checkPacket(c, label, compress);
        return;
      }
      const keyring = keyringOf(c);
      checkStream(c.bytes, c.expected, { header: label, aad: label, keyring, compress });
      assert.ok(c.response, 'TCP captures have a response section');
      if (c.response.bytes.length > 0) {
        checkStream(c.response.bytes, c.response.expected, {
          header: null,
          aad: label,
          keyring,
          compress,
        });
      }
    });
  }

  const compat = (file: string) => {
    const c = captures.find((x) => x.file === file);
    assert.ok(c, file);
    return c;
  };
  const k16 = () => new Keyring([KEY16]);

  it('compat vectors: the dialer side decodes and re-encodes with its own label (or none)', () => {
    const dialers: Array<[string, Uint8Array | null]> = [
      ['compat-labelled-to-unlabelled-tcp-pushpull-join.txt', TEAM1],
      ['compat-unlabelled-to-labelled-tcp-pushpull-join.txt', null],
      ['compat-label-mismatch-tcp-pushpull-join.txt', utf8('team2')],
      ['compat-labelled-to-v022-tcp-pushpull-join.txt', TEAM1],
      ['compat-enc-labelled-to-v022-tcp-pushpull-join.txt', TEAM1],
      ['compat-enc-unlabelled-to-skipcheck-tcp-pushpull-join.txt', null],
    ];
    for (const [file, label] of dialers) {
      const c = compat(file);
      checkStream(c.bytes, c.expected, {
        header: label,
        aad: label ?? new Uint8Array(0),
        keyring: keyringOf(c),
        compress: true,
      });
    }
    checkPacket(compat('compat-skipcheck-to-v022-udp-ping.txt'), TEAM1, true);
  });

  it('compat: memberlist 0.2.2 seals its error reply without the label; a labelled dialer cannot open it and says why', () => {
    const c = compat('compat-enc-labelled-to-v022-tcp-pushpull-join.txt');
    const reply = c.response!.bytes;
    checkStream(reply, c.response!.expected, {
      header: null,
      aad: new Uint8Array(0),
      keyring: k16(),
      compress: true,
    });
    assert.throws(
      () => tryParseStreamMessage(reply, { keyring: k16(), verifyIncoming: true, label: TEAM1 }),
      (e: unknown) =>
        e instanceof CodecError &&
        e.code === 'decrypt-failed' &&
        /without this node's label "team1"/.test(e.message),
    );
  });

  it('compat: a skip-check node seals its error reply with its label; the unlabelled dialer cannot open it', () => {
    const c = compat('compat-enc-unlabelled-to-skipcheck-tcp-pushpull-join.txt');
    const reply = c.response!.bytes;
    checkStream(reply, c.response!.expected, {
      header: null,
      aad: TEAM1,
      keyring: k16(),
      compress: true,
    });
    assert.throws(() => tryParseStreamMessage(reply, { keyring: k16(), verifyIncoming: true }), {
      code: 'decrypt-failed',
    });
    // And the listener itself could not open the dialer's frame with team1 in the AAD.
    assert.throws(
      () => tryParseStreamMessage(c.bytes, { keyring: k16(), verifyIncoming: true, label: TEAM1 }),
      { code: 'decrypt-failed' },
    );
  });

  it('streams refused on their label were closed without a reply', () => {
    for (const c of captures.filter((x) => x.prefix === 'compat-' && x.transport === 'tcp')) {
      // The two encrypted ones passed (or never had) a label check and failed to decrypt.
      const refusedOnLabel = !c.file.startsWith('compat-enc-');
      assert.equal(c.response!.bytes.length === 0, refusedOnLabel, c.file);
    }
  });
});

describe('label header and check', () => {
  const p = (label: string, skipInboundCheck = false): LabelPolicy => ({
    label: utf8(label),
    skipInboundCheck,
  });

  it('encodes f4, the length and the bytes; nothing for the empty label; refuses 256 bytes', () => {
    assert.equal(toHex(encodeLabelHeader(TEAM1)), 'f4057465616d31');
    assert.equal(encodeLabelHeader(new Uint8Array(0)).length, 0);
    assert.equal(toHex(encodeLabelHeader(LABEL255).subarray(0, 2)), 'f4ff');
    assert.throws(() => encodeLabelHeader(new Uint8Array(256)), { code: 'too-large' });
  });

  it('reads headers as Go does: absent, complete, cut short, empty', () => {
    assert.deepEqual(readLabelHeader(Uint8Array.from([0, 1]), true, 'packet'), {
      label: null,
      length: 0,
    });
    const full = addLabelHeader(TEAM1, Uint8Array.from([2, 3]));
    assert.deepEqual(readLabelHeader(full, true, 'packet'), { label: TEAM1, length: 7 });
    for (let n = 1; n < 7; n++) {
      // A stream waits for the rest; a datagram (or a closed stream) is truncated.
      assert.equal(readLabelHeader(full.subarray(0, n), false, 'stream'), null, `prefix ${n}`);
      assert.throws(() => readLabelHeader(full.subarray(0, n), true, 'packet'), {
        name: 'LabelError',
        reason: 'malformed',
        message: 'cannot decode label; packet has been truncated',
      });
    }
    assert.throws(
      () => readLabelHeader(Uint8Array.from([LABEL_HEADER_TYPE, 0, 1]), false, 'stream'),
      {
        reason: 'malformed',
        message: 'label header cannot be empty when present',
      },
    );
  });

  it('checks byte for byte, with Go reasons', () => {
    checkInboundLabel(TEAM1, p('team1'), 'packet');
    checkInboundLabel(null, p(''), 'packet');
    assert.throws(() => checkInboundLabel(null, p('team1'), 'stream'), { reason: 'missing' });
    assert.throws(() => checkInboundLabel(utf8('Team1'), p('team1'), 'stream'), {
      reason: 'mismatch',
    });
    assert.throws(() => checkInboundLabel(TEAM1, p(''), 'packet'), {
      reason: 'mismatch',
      message: `packet with label "team1", but this node has no label`,
    });
    // skipInboundLabelCheck: no header allowed, and the missing one counts as ours.
    checkInboundLabel(null, p('team1', true), 'packet');
    assert.throws(() => checkInboundLabel(TEAM1, p('team1', true), 'packet'), {
      reason: 'unexpected',
    });
  });

  it('the label is checked before decryption: a wrong label is refused as such, not as undecryptable', () => {
    const c = captures.find((x) => x.file === 'enc16-udp-ping.txt')!;
    const keyring = keyringOf(c);
    for (const [pol, reason] of [
      [p(''), 'mismatch'],
      [p('team2'), 'mismatch'],
      [p('team1', true), 'unexpected'],
    ] as const) {
      assert.throws(
        () => decodePacket(c.bytes, { keyring, verifyIncoming: true, labelPolicy: pol }),
        {
          reason,
        },
      );
    }
    // Moved to another cluster with the same key (header rewritten), the tag no longer verifies.
    const team2 = addLabelHeader(utf8('team2'), c.bytes.subarray(7));
    assert.throws(
      () => decodePacket(team2, { keyring, verifyIncoming: true, labelPolicy: p('team2') }),
      { code: 'decrypt-failed' },
    );
  });

  it('a stream parser fed the labelled vectors in pieces gives the same message', () => {
    for (const c of phases.filter((x) => x.transport === 'tcp')) {
      const label = phaseLabel(c);
      const body = c.bytes.subarray(2 + label.length);
      const opts = { keyring: keyringOf(c), verifyIncoming: c.key !== undefined, label };
      const parser = new StreamMessageParser(opts);
      let got = null;
      for (let n = 1; n <= body.length && got === null; n++)
        got = parser.tryParse(body.subarray(0, n));
      assert.deepEqual(got, tryParseStreamMessage(body, opts), c.file);
    }
  });
});
