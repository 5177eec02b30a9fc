/**
 * Our decoded messages in the shape the reference decoder prints beside each capture of real
 * Go traffic (`=> {...}` lines), and a normal form in which the two are compared.
 */
import {
  MessageType,
  type PacketMessage,
  type PushNodeState,
  type StreamMessage,
} from '../src/codec/index.js';
import { type Expected, type GoValue, toHex } from './codec-fixtures.js';

type Actual = Expected;
type Fields = Record<string, GoValue>;

const bytes = (b: Uint8Array | null | undefined): GoValue => (b ? { bytes: b } : null);

function fieldsOf(m: Exclude<PacketMessage, { type: MessageType.User }>): Fields {
  switch (m.type) {
    case MessageType.Ping:
    case MessageType.IndirectPing: {
      const f: Fields = { Node: m.body.node, SeqNo: m.body.seqNo };
      if (m.type === MessageType.IndirectPing) {
        Object.assign(f, { Nack: m.body.nack, Port: m.body.port, Target: bytes(m.body.target) });
      }
      if (m.body.sourceAddr) f.SourceAddr = bytes(m.body.sourceAddr);
      if (m.body.sourceNode) f.SourceNode = m.body.sourceNode;
      if (m.body.sourcePort) f.SourcePort = m.body.sourcePort;
      return f;
    }
    case MessageType.AckResp:
      return { Payload: bytes(m.body.payload), SeqNo: m.body.seqNo };
    case MessageType.NackResp:
      return { SeqNo: m.body.seqNo };
    case MessageType.Suspect:
    case MessageType.Dead:
      return { From: m.body.from, Incarnation: m.body.incarnation, Node: m.body.node };
    case MessageType.Alive:
      return {
        Addr: bytes(m.body.addr),
        Incarnation: m.body.incarnation,
        Meta: bytes(m.body.meta),
        Node: m.body.node,
        Port: m.body.port,
        Vsn: bytes(m.body.vsn),
      };
  }
}

function nodeFields(n: PushNodeState): Fields {
  return {
    Addr: bytes(n.addr),
    Incarnation: n.incarnation,
    Meta: bytes(n.meta),
    Name: n.name,
    Port: n.port,
    State: n.state,
    Vsn: bytes(n.vsn),
  };
}

export function packetEvents(messages: PacketMessage[]): Actual[] {
  return messages.map((m) =>
    m.type === MessageType.User
      ? { kind: 'udp-user', payload: m.payload }
      : { kind: 'msg', fields: fieldsOf(m) },
  );
}

export function streamEvents(m: StreamMessage): Actual[] {
  switch (m.type) {
    case 'pushPull': {
      const out: Actual[] = [
        {
          kind: 'header',
          fields: { Join: m.join, Nodes: m.nodes.length, UserStateLen: m.userState?.length ?? 0 },
        },
      ];
      m.nodes.forEach((n, index) => {
        out.push({ kind: 'node', index, fields: nodeFields(n) });
      });
      if (m.userState) out.push({ kind: 'user-state', state: m.userState });
      return out;
    }
    case 'user':
      return [{ kind: 'tcp-user', payload: m.payload }];
    case 'ping':
      return [{ kind: 'msg', fields: fieldsOf({ type: MessageType.Ping, body: m.body }) }];
    case 'ack':
      return [{ kind: 'msg', fields: fieldsOf({ type: MessageType.AckResp, body: m.body }) }];
    case 'err':
      return [{ kind: 'msg', fields: { Error: m.error } }];
  }
}

/** Go `string` fields; every other field printed as "text" is a byte slice. */
const STRING_FIELDS = new Set(['Node', 'Name', 'From', 'SourceNode', 'Error']);

/** Compares with the reference decoder's output; a "text" value matches bytes of that text. */
export function normalise(events: Expected[]): unknown[] {
  const value = (v: GoValue): unknown => {
    if (v !== null && typeof v === 'object') return `hex:${toHex(v.bytes)}`;
    return v;
  };
  // The reference decoder prints printable byte fields as "text": compare those as bytes.
  const fields = (f: Fields) =>
    Object.fromEntries(
      Object.entries(f).map(([k, v]) => [
        k,
        typeof v === 'string' && !STRING_FIELDS.has(k)
          ? `hex:${toHex(new TextEncoder().encode(v))}`
          : value(v),
      ]),
    );
  return events.map((e) => {
    switch (e.kind) {
      case 'msg':
      case 'header':
        return { kind: e.kind, fields: fields(e.fields) };
      case 'node':
        return { kind: e.kind, index: e.index, fields: fields(e.fields) };
      case 'udp-user':
      case 'tcp-user':
        return { kind: e.kind, payload: toHex(e.payload) };
      default:
        return { kind: e.kind, state: toHex(e.state) };
    }
  });
}
