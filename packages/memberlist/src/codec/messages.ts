// Over 600 lines on purpose: an encoder and decoder unrolled by hand per message (Go's bytes).
/**
 * Message types and bodies of memberlist 0.2.2 (docs/spec/memberlist-wire.md §2 and §4), with encoders that
 * produce Go-identical bytes and decoders that accept what a Go peer accepts.
 *
 * Field names are camelCase here; on the wire they are the Go names (`SeqNo`, `SourceAddr`...),
 * written in sorted order. Decoders also take array-encoded structs, whose elements follow the
 * Go DECLARATION order listed in the `*_FIELDS` constants.
 */
import { CodecError } from './errors.js';
import {
  allocBytes,
  copyOut,
  fieldKeys,
  MsgpackReader,
  MsgpackWriter,
  mapKey,
  U8_MAX,
  U16_MAX,
  U32_MAX,
} from './msgpack.js';

export enum MessageType {
  Ping = 0,
  IndirectPing = 1,
  AckResp = 2,
  Suspect = 3,
  Alive = 4,
  Dead = 5,
  PushPull = 6,
  Compound = 7,
  User = 8,
  Compress = 9,
  Encrypt = 10,
  NackResp = 11,
  HasCrc = 12,
  Err = 13,
}

export enum NodeStateType {
  Alive = 0,
  Suspect = 1,
  Dead = 2,
  Left = 3,
}

/** `ping` (type 0). The three `source*` fields are omitted on the wire when empty/zero. */
export interface Ping {
  seqNo: number;
  /** Name of the intended recipient ("" is accepted by anyone). */
  node: string;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

/** `indirectPingReq` (type 1). */
export interface IndirectPingReq {
  seqNo: number;
  target: Uint8Array;
  port: number;
  node: string;
  nack: boolean;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

/** `ackResp` (type 2). `payload` null is written as msgpack nil, as Go does without a delegate. */
export interface AckResp {
  seqNo: number;
  payload: Uint8Array | null;
}

/** `nackResp` (type 11). */
export interface NackResp {
  seqNo: number;
}

/** `errResp` (type 13, streams only). */
export interface ErrResp {
  error: string;
}

/** `suspect` (type 3). */
export interface Suspect {
  incarnation: number;
  node: string;
  from: string;
}

/** `alive` (type 4). `vsn` must be 6 bytes (see vsn.ts); `addr` is 4 or 16 bytes. */
export interface Alive {
  incarnation: number;
  node: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  vsn: Uint8Array;
}

/** `dead` (type 5). `from === node` means a graceful leave. */
export interface Dead {
  incarnation: number;
  node: string;
  from: string;
}

/** One node record of a push/pull exchange. */
export interface PushNodeState {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array | null;
  incarnation: number;
  /** Go accepts any integer here; values outside 0..3 are passed through for the caller to ignore. */
  state: NodeStateType;
  vsn: Uint8Array;
}

/** The header that opens a push/pull message (type 6). */
export interface PushPullHeader {
  nodes: number;
  userStateLen: number;
  join: boolean;
}

/** Messages that may arrive in a datagram and are dispatched one by one. */
export type PacketMessage =
  | { type: MessageType.Ping; body: Ping }
  | { type: MessageType.IndirectPing; body: IndirectPingReq }
  | { type: MessageType.AckResp; body: AckResp }
  | { type: MessageType.NackResp; body: NackResp }
  | { type: MessageType.Suspect; body: Suspect }
  | { type: MessageType.Alive; body: Alive }
  | { type: MessageType.Dead; body: Dead }
  | { type: MessageType.User; payload: Uint8Array };

// Go declaration order of each struct: the order of elements when a struct arrives as an array.
export const PING_FIELDS = ['SeqNo', 'Node', 'SourceAddr', 'SourcePort', 'SourceNode'] as const;
export const INDIRECT_PING_FIELDS = [
  'SeqNo',
  'Target',
  'Port',
  'Node',
  'Nack',
  'SourceAddr',
  'SourcePort',
  'SourceNode',
] as const;
export const ACK_FIELDS = ['SeqNo', 'Payload'] as const;
export const NACK_FIELDS = ['SeqNo'] as const;
export const ERR_FIELDS = ['Error'] as const;
/** suspect and dead share this layout. */
export const SUSPECT_FIELDS = ['Incarnation', 'Node', 'From'] as const;
export const ALIVE_FIELDS = ['Incarnation', 'Node', 'Addr', 'Port', 'Meta', 'Vsn'] as const;
export const PUSH_PULL_HEADER_FIELDS = ['Nodes', 'UserStateLen', 'Join'] as const;
export const PUSH_NODE_STATE_FIELDS = [
  'Name',
  'Addr',
  'Port',
  'Meta',
  'Incarnation',
  'State',
  'Vsn',
] as const;
export const USER_MSG_HEADER_FIELDS = ['UserMsgLen'] as const;
export const COMPRESS_FIELDS = ['Algo', 'Buf'] as const;

const ACK_KEYS = fieldKeys(ACK_FIELDS);
const ALIVE_KEYS = fieldKeys(ALIVE_FIELDS);
const COMPRESS_KEYS = fieldKeys(COMPRESS_FIELDS);
const ERR_KEYS = fieldKeys(ERR_FIELDS);
const INDIRECT_PING_KEYS = fieldKeys(INDIRECT_PING_FIELDS);
const NACK_KEYS = fieldKeys(NACK_FIELDS);
const PING_KEYS = fieldKeys(PING_FIELDS);
const PUSH_NODE_STATE_KEYS = fieldKeys(PUSH_NODE_STATE_FIELDS);
const PUSH_PULL_HEADER_KEYS = fieldKeys(PUSH_PULL_HEADER_FIELDS);
const SUSPECT_KEYS = fieldKeys(SUSPECT_FIELDS);
const USER_MSG_HEADER_KEYS = fieldKeys(USER_MSG_HEADER_FIELDS);

const K = {
  Addr: mapKey('Addr'),
  Algo: mapKey('Algo'),
  Buf: mapKey('Buf'),
  Error: mapKey('Error'),
  From: mapKey('From'),
  Incarnation: mapKey('Incarnation'),
  Join: mapKey('Join'),
  Meta: mapKey('Meta'),
  Nack: mapKey('Nack'),
  Name: mapKey('Name'),
  Node: mapKey('Node'),
  Nodes: mapKey('Nodes'),
  Payload: mapKey('Payload'),
  Port: mapKey('Port'),
  SeqNo: mapKey('SeqNo'),
  SourceAddr: mapKey('SourceAddr'),
  SourceNode: mapKey('SourceNode'),
  SourcePort: mapKey('SourcePort'),
  State: mapKey('State'),
  Target: mapKey('Target'),
  UserMsgLen: mapKey('UserMsgLen'),
  UserStateLen: mapKey('UserStateLen'),
  Vsn: mapKey('Vsn'),
};

const EMPTY = new Uint8Array(0);

/** Go sends exactly 6 Vsn bytes; 1–5 bytes crash a Go receiver, so we refuse to send them. */
function checkVsn(vsn: Uint8Array, what: string): Uint8Array {
  if (vsn.length !== 6) {
    throw new CodecError('policy', `${what}: Vsn must be 6 bytes, got ${vsn.length}`);
  }
  return vsn;
}

// ---- body writers (sorted key order, as go-msgpack writes maps) ----

export function writePing(w: MsgpackWriter, p: Ping): void {
  const hasAddr = p.sourceAddr != null && p.sourceAddr.length > 0;
  const hasNode = p.sourceNode != null && p.sourceNode.length > 0;
  const hasPort = p.sourcePort != null && p.sourcePort !== 0;
  w.mapHeader(2 + (hasAddr ? 1 : 0) + (hasNode ? 1 : 0) + (hasPort ? 1 : 0));
  w.raw(K.Node);
  w.str(p.node);
  w.raw(K.SeqNo);
  w.uint(p.seqNo, U32_MAX, 'SeqNo');
  if (hasAddr) {
    w.raw(K.SourceAddr);
    w.bytes(p.sourceAddr);
  }
  if (hasNode) {
    w.raw(K.SourceNode);
    w.str(p.sourceNode!);
  }
  if (hasPort) {
    w.raw(K.SourcePort);
    w.uint(p.sourcePort!, U16_MAX, 'SourcePort');
  }
}

export function writeIndirectPing(w: MsgpackWriter, p: IndirectPingReq): void {
  const hasAddr = p.sourceAddr != null && p.sourceAddr.length > 0;
  const hasNode = p.sourceNode != null && p.sourceNode.length > 0;
  const hasPort = p.sourcePort != null && p.sourcePort !== 0;
  w.mapHeader(5 + (hasAddr ? 1 : 0) + (hasNode ? 1 : 0) + (hasPort ? 1 : 0));
  w.raw(K.Nack);
  w.bool(p.nack);
  w.raw(K.Node);
  w.str(p.node);
  w.raw(K.Port);
  w.uint(p.port, U16_MAX, 'Port');
  w.raw(K.SeqNo);
  w.uint(p.seqNo, U32_MAX, 'SeqNo');
  if (hasAddr) {
    w.raw(K.SourceAddr);
    w.bytes(p.sourceAddr);
  }
  if (hasNode) {
    w.raw(K.SourceNode);
    w.str(p.sourceNode!);
  }
  if (hasPort) {
    w.raw(K.SourcePort);
    w.uint(p.sourcePort!, U16_MAX, 'SourcePort');
  }
  w.raw(K.Target);
  w.bytes(p.target);
}

export function writeAck(w: MsgpackWriter, a: AckResp): void {
  w.mapHeader(2);
  w.raw(K.Payload);
  w.bytes(a.payload);
  w.raw(K.SeqNo);
  w.uint(a.seqNo, U32_MAX, 'SeqNo');
}

export function writeNack(w: MsgpackWriter, n: NackResp): void {
  w.mapHeader(1);
  w.raw(K.SeqNo);
  w.uint(n.seqNo, U32_MAX, 'SeqNo');
}

export function writeErr(w: MsgpackWriter, e: ErrResp): void {
  w.mapHeader(1);
  w.raw(K.Error);
  w.str(e.error);
}

/** suspect and dead have the same fields. */
export function writeSuspectOrDead(w: MsgpackWriter, s: Suspect | Dead): void {
  w.mapHeader(3);
  w.raw(K.From);
  w.str(s.from);
  w.raw(K.Incarnation);
  w.uint(s.incarnation, U32_MAX, 'Incarnation');
  w.raw(K.Node);
  w.str(s.node);
}

export function writeAlive(w: MsgpackWriter, a: Alive): void {
  w.mapHeader(6);
  w.raw(K.Addr);
  w.bytes(a.addr);
  w.raw(K.Incarnation);
  w.uint(a.incarnation, U32_MAX, 'Incarnation');
  w.raw(K.Meta);
  w.bytes(a.meta);
  w.raw(K.Node);
  w.str(a.node);
  w.raw(K.Port);
  w.uint(a.port, U16_MAX, 'Port');
  w.raw(K.Vsn);
  w.bytes(checkVsn(a.vsn, 'alive'));
}

export function writePushPullHeader(w: MsgpackWriter, h: PushPullHeader): void {
  w.mapHeader(3);
  w.raw(K.Join);
  w.bool(h.join);
  w.raw(K.Nodes);
  w.int(h.nodes, 'Nodes');
  w.raw(K.UserStateLen);
  w.int(h.userStateLen, 'UserStateLen');
}

export function writePushNodeState(w: MsgpackWriter, n: PushNodeState): void {
  w.mapHeader(7);
  w.raw(K.Addr);
  w.bytes(n.addr);
  w.raw(K.Incarnation);
  w.uint(n.incarnation, U32_MAX, 'Incarnation');
  w.raw(K.Meta);
  w.bytes(n.meta);
  w.raw(K.Name);
  w.str(n.name);
  w.raw(K.Port);
  w.uint(n.port, U16_MAX, 'Port');
  w.raw(K.State);
  w.int(n.state, 'State');
  w.raw(K.Vsn);
  w.bytes(checkVsn(n.vsn, `push/pull record ${n.name}`));
}

export function writeUserMsgHeader(w: MsgpackWriter, userMsgLen: number): void {
  w.mapHeader(1);
  w.raw(K.UserMsgLen);
  w.int(userMsgLen, 'UserMsgLen');
}

/** The `compress` struct: Algo 0 (LZW) and the compressed bytes. */
export function writeCompress(w: MsgpackWriter, algo: number, buf: Uint8Array): void {
  w.mapHeader(2);
  w.raw(K.Algo);
  w.uint(algo, U8_MAX, 'Algo');
  w.raw(K.Buf);
  w.bytes(buf);
}

// ---- body readers ----

type SourceFields = { sourceAddr?: Uint8Array; sourcePort?: number; sourceNode?: string };
type SourceNames = readonly [addr: string, port: string, node: string];
const PING_SOURCE_NAMES: SourceNames = ['ping.SourceAddr', 'ping.SourcePort', 'ping.SourceNode'];
const INDIRECT_PING_SOURCE_NAMES: SourceNames = [
  'indirectPingReq.SourceAddr',
  'indirectPingReq.SourcePort',
  'indirectPingReq.SourceNode',
];

/**
 * The omitempty `Source*` fields that ping and indirectPingReq share (0 = SourceAddr,
 * 1 = SourcePort, 2 = SourceNode): an empty value leaves the field absent, as Go would have
 * written it, so a decoded message re-encodes to the same bytes.
 */
function readSourceField(r: MsgpackReader, p: SourceFields, which: number, names: SourceNames) {
  if (which === 0) {
    const a = r.bytes(names[0]);
    if (a) p.sourceAddr = a;
    else delete p.sourceAddr;
  } else if (which === 1) {
    const port = r.uint(U16_MAX, names[1]);
    if (port !== 0) p.sourcePort = port;
    else delete p.sourcePort;
  } else {
    const s = r.string(names[2]);
    if (s !== '') p.sourceNode = s;
    else delete p.sourceNode;
  }
}

export function readPing(r: MsgpackReader): Ping {
  const p: Ping = { seqNo: 0, node: '' };
  const n = r.structHeader('ping');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    const field = r.fieldIndex(PING_KEYS, i, arr);
    switch (field) {
      case 0:
        p.seqNo = r.uint(U32_MAX, 'ping.SeqNo');
        break;
      case 1:
        p.node = r.string('ping.Node');
        break;
      case 2:
      case 3:
      case 4:
        readSourceField(r, p, field - 2, PING_SOURCE_NAMES);
        break;
      default:
        r.skip();
    }
  }
  return p;
}

export function readIndirectPing(r: MsgpackReader): IndirectPingReq {
  const p: IndirectPingReq = { seqNo: 0, target: EMPTY, port: 0, node: '', nack: false };
  const n = r.structHeader('indirectPingReq');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    const field = r.fieldIndex(INDIRECT_PING_KEYS, i, arr);
    switch (field) {
      case 0:
        p.seqNo = r.uint(U32_MAX, 'indirectPingReq.SeqNo');
        break;
      case 1:
        p.target = r.bytes('indirectPingReq.Target') ?? EMPTY;
        break;
      case 2:
        p.port = r.uint(U16_MAX, 'indirectPingReq.Port');
        break;
      case 3:
        p.node = r.string('indirectPingReq.Node');
        break;
      case 4:
        p.nack = r.bool('indirectPingReq.Nack');
        break;
      case 5:
      case 6:
      case 7:
        readSourceField(r, p, field - 5, INDIRECT_PING_SOURCE_NAMES);
        break;
      default:
        r.skip();
    }
  }
  return p;
}

export function readAck(r: MsgpackReader): AckResp {
  const a: AckResp = { seqNo: 0, payload: null };
  const n = r.structHeader('ackResp');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    switch (r.fieldIndex(ACK_KEYS, i, arr)) {
      case 0:
        a.seqNo = r.uint(U32_MAX, 'ackResp.SeqNo');
        break;
      case 1:
        a.payload = r.bytes('ackResp.Payload');
        break;
      default:
        r.skip();
    }
  }
  return a;
}

export function readNack(r: MsgpackReader): NackResp {
  const a: NackResp = { seqNo: 0 };
  const n = r.structHeader('nackResp');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    if (r.fieldIndex(NACK_KEYS, i, arr) === 0) a.seqNo = r.uint(U32_MAX, 'nackResp.SeqNo');
    else r.skip();
  }
  return a;
}

export function readErr(r: MsgpackReader): ErrResp {
  const e: ErrResp = { error: '' };
  const n = r.structHeader('errResp');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    if (r.fieldIndex(ERR_KEYS, i, arr) === 0) e.error = r.string('errResp.Error');
    else r.skip();
  }
  return e;
}

/** Reads a suspect or dead body (same layout); `what` names it in errors. */
export function readSuspectOrDead(r: MsgpackReader, what: 'suspect' | 'dead'): Suspect {
  const s: Suspect = { incarnation: 0, node: '', from: '' };
  const n = r.structHeader(what);
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    switch (r.fieldIndex(SUSPECT_KEYS, i, arr)) {
      case 0:
        s.incarnation = r.uint(U32_MAX, `${what}.Incarnation`);
        break;
      case 1:
        s.node = r.string(`${what}.Node`);
        break;
      case 2:
        s.from = r.string(`${what}.From`);
        break;
      default:
        r.skip();
    }
  }
  return s;
}

export function readAlive(r: MsgpackReader): Alive {
  const a: Alive = { incarnation: 0, node: '', addr: EMPTY, port: 0, meta: null, vsn: EMPTY };
  const n = r.structHeader('alive');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    switch (r.fieldIndex(ALIVE_KEYS, i, arr)) {
      case 0:
        a.incarnation = r.uint(U32_MAX, 'alive.Incarnation');
        break;
      case 1:
        a.node = r.string('alive.Node');
        break;
      case 2:
        a.addr = r.bytes('alive.Addr') ?? EMPTY;
        break;
      case 3:
        a.port = r.uint(U16_MAX, 'alive.Port');
        break;
      case 4:
        a.meta = r.bytes('alive.Meta');
        break;
      case 5:
        a.vsn = r.bytes('alive.Vsn') ?? EMPTY;
        break;
      default:
        r.skip();
    }
  }
  return a;
}

export function readPushPullHeader(r: MsgpackReader): PushPullHeader {
  const h: PushPullHeader = { nodes: 0, userStateLen: 0, join: false };
  const n = r.structHeader('pushPullHeader');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    switch (r.fieldIndex(PUSH_PULL_HEADER_KEYS, i, arr)) {
      case 0:
        h.nodes = r.int('pushPullHeader.Nodes');
        break;
      case 1:
        h.userStateLen = r.int('pushPullHeader.UserStateLen');
        break;
      case 2:
        h.join = r.bool('pushPullHeader.Join');
        break;
      default:
        r.skip();
    }
  }
  return h;
}

export function readPushNodeState(r: MsgpackReader): PushNodeState {
  const s: PushNodeState = {
    name: '',
    addr: EMPTY,
    port: 0,
    meta: null,
    incarnation: 0,
    state: NodeStateType.Alive,
    vsn: EMPTY,
  };
  const n = r.structHeader('pushNodeState');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    switch (r.fieldIndex(PUSH_NODE_STATE_KEYS, i, arr)) {
      case 0:
        s.name = r.string('pushNodeState.Name');
        break;
      case 1:
        s.addr = r.bytes('pushNodeState.Addr') ?? EMPTY;
        break;
      case 2:
        s.port = r.uint(U16_MAX, 'pushNodeState.Port');
        break;
      case 3:
        s.meta = r.bytes('pushNodeState.Meta');
        break;
      case 4:
        s.incarnation = r.uint(U32_MAX, 'pushNodeState.Incarnation');
        break;
      case 5:
        s.state = r.int('pushNodeState.State');
        break;
      case 6:
        s.vsn = r.bytes('pushNodeState.Vsn') ?? EMPTY;
        break;
      default:
        r.skip();
    }
  }
  return s;
}

export function readUserMsgHeader(r: MsgpackReader): number {
  let len = 0;
  const n = r.structHeader('userMsgHeader');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    if (r.fieldIndex(USER_MSG_HEADER_KEYS, i, arr) === 0) len = r.int('userMsgHeader.UserMsgLen');
    else r.skip();
  }
  return len;
}

export function readCompress(r: MsgpackReader): { algo: number; buf: Uint8Array | null } {
  const c = { algo: 0, buf: null as Uint8Array | null };
  const n = r.structHeader('compress');
  const arr = r.structIsArray;
  for (let i = 0; i < n; i++) {
    switch (r.fieldIndex(COMPRESS_KEYS, i, arr)) {
      case 0:
        c.algo = r.uint(U8_MAX, 'compress.Algo');
        break;
      case 1:
        c.buf = r.bytes('compress.Buf');
        break;
      default:
        r.skip();
    }
  }
  return c;
}

// ---- whole messages ----

let scratch = new MsgpackWriter(256);

/**
 * A reset writer shared by the synchronous encoders (no encode calls another), replaced if a
 * big message made it grow so one push/pull does not pin megabytes forever.
 */
export function scratchWriter(): MsgpackWriter {
  if (scratch.capacity > 65536) scratch = new MsgpackWriter(256);
  return scratch.reset();
}

/** Type byte + body, byte-identical to what Go memberlist writes. */
export function encodeMessage(m: PacketMessage): Uint8Array {
  if (m.type === MessageType.User) {
    const out = allocBytes(m.payload.length + 1);
    out[0] = MessageType.User;
    out.set(m.payload, 1);
    return out;
  }
  const w = scratchWriter();
  w.byte(m.type);
  switch (m.type) {
    case MessageType.Ping:
      writePing(w, m.body);
      break;
    case MessageType.IndirectPing:
      writeIndirectPing(w, m.body);
      break;
    case MessageType.AckResp:
      writeAck(w, m.body);
      break;
    case MessageType.NackResp:
      writeNack(w, m.body);
      break;
    case MessageType.Suspect:
    case MessageType.Dead:
      writeSuspectOrDead(w, m.body);
      break;
    case MessageType.Alive:
      writeAlive(w, m.body);
      break;
    default:
      throw new CodecError(
        'unknown-type',
        `cannot encode message type ${(m as { type: number }).type} as a packet message`,
      );
  }
  return w.finish();
}

/**
 * Decodes one packet message (type byte + body). Bytes after the body are ignored, as Go
 * does. Compound, compress and CRC layers are not handled here (see packet.ts); they and any
 * type a datagram may not carry throw `unknown-type`.
 */
export function decodeMessage(buf: Uint8Array): PacketMessage {
  if (buf.length === 0) throw new CodecError('truncated', 'empty message: no type byte');
  const type = buf[0];
  if (type === MessageType.User) return { type, payload: copyOut(buf, 1, buf.length) };
  const r = new MsgpackReader(buf, 1);
  switch (type) {
    case MessageType.Ping:
      return { type, body: readPing(r) };
    case MessageType.IndirectPing:
      return { type, body: readIndirectPing(r) };
    case MessageType.AckResp:
      return { type, body: readAck(r) };
    case MessageType.NackResp:
      return { type, body: readNack(r) };
    case MessageType.Suspect:
      return { type, body: readSuspectOrDead(r, 'suspect') };
    case MessageType.Alive:
      return { type, body: readAlive(r) };
    case MessageType.Dead:
      return { type, body: readSuspectOrDead(r, 'dead') };
    default:
      throw new CodecError('unknown-type', `message type ${type} is not a packet message`);
  }
}
