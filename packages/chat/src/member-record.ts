/**
 * The chat-member record: the Go prototype's protobuf message `chatmember.Member` serialised with
 * Go's encoding/json (not protobuf's JSON mapping), so the wire form is the struct's json tags
 * `msgType,omitempty`, `name,omitempty`, `sender,omitempty`, `timestamp,omitempty` in that order,
 * and the timestamp is `{"seconds","nanos"}` with zero values left out. JOIN is 0, so a JOIN record
 * carries no msgType at all. It travels as a memberlist user message (gossip) and, as a map
 * `{name: record}`, as the delegate's push/pull state.
 */
import { ChatProtocolError } from './errors.js';
import { goField, goJsonString, goSortedKeys } from './go-json.js';

/** The kind of a chat-member record: a member joined, left, or a gossip ping (echoed back). */
export const MsgType = { JOIN: 0, LEAVE: 1, PING: 2 } as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];
const MSG_TYPE_NAMES: Record<MsgType, string> = { 0: 'JOIN', 1: 'LEAVE', 2: 'PING' };

/** google.protobuf.Timestamp as Go's encoding/json writes it. */
export interface GoTimestamp {
  seconds: number;
  nanos: number;
}

export interface ChatMemberRecord {
  msgType: MsgType;
  /** The member's memberlist node name, `<name>-<hostname>-<uuid>` for peers started by `init`. */
  name: string;
  /** `host:port` of the member's chat listener; empty when unknown. */
  sender: string;
  /** When the member started its chat (JOIN), or when a PING was sent; absent = Go's nil pointer. */
  timestamp?: GoTimestamp;
}

/** Upper bounds for untrusted input: a record is one gossip message, far below these. */
export const MAX_RECORD_BYTES = 64 * 1024;
export const MAX_STATE_BYTES = 4 * 1024 * 1024;
export const MAX_STATE_MEMBERS = 10_000;

export function msgTypeName(t: MsgType): string {
  return MSG_TYPE_NAMES[t];
}

export function timestampNow(nowMs: number = Date.now()): GoTimestamp {
  const seconds = Math.floor(nowMs / 1000);
  return { seconds, nanos: Math.round((nowMs - seconds * 1000) * 1_000_000) };
}

/** Orders timestamps oldest first; a missing timestamp counts as newest (it proves no age). */
export function compareTimestamps(a: GoTimestamp | undefined, b: GoTimestamp | undefined): number {
  if (!a || !b) return (a ? 0 : 1) - (b ? 0 : 1);
  return a.seconds - b.seconds || a.nanos - b.nanos;
}

/** The record as the exact JSON text Go's json.Marshal produces for it. */
export function memberRecordJson(r: ChatMemberRecord): string {
  const parts: string[] = [];
  if (r.msgType !== 0) parts.push(`"msgType":${r.msgType}`);
  if (r.name !== '') parts.push(`"name":${goJsonString(r.name)}`);
  if (r.sender !== '') parts.push(`"sender":${goJsonString(r.sender)}`);
  if (r.timestamp) {
    const ts: string[] = [];
    if (r.timestamp.seconds !== 0) ts.push(`"seconds":${r.timestamp.seconds}`);
    if (r.timestamp.nanos !== 0) ts.push(`"nanos":${r.timestamp.nanos}`);
    parts.push(`"timestamp":{${ts.join(',')}}`);
  }
  return `{${parts.join(',')}}`;
}

export function encodeMemberRecord(r: ChatMemberRecord): Uint8Array {
  return Buffer.from(memberRecordJson(r), 'utf8');
}

/** The delegate's LocalState: Go's json.Marshal of map[string]*Member (keys sorted by bytes). */
export function encodeLocalState(members: ReadonlyMap<string, ChatMemberRecord>): Uint8Array {
  const entries = goSortedKeys(members.keys()).map(
    (k) => `${goJsonString(k)}:${memberRecordJson(members.get(k)!)}`,
  );
  return Buffer.from(`{${entries.join(',')}}`, 'utf8');
}

// Non-fatal decoding turns invalid UTF-8 into U+FFFD, as Go's decoder does; a BOM is kept so that
// JSON.parse rejects it, again as Go does.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function parseJson(bytes: Uint8Array | string, limit: number, what: string): unknown {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size === 0) throw new ChatProtocolError(`${what}: empty message`);
  if (size > limit) {
    throw new ChatProtocolError(`${what}: ${size} bytes exceeds the ${limit}-byte limit`);
  }
  const text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ChatProtocolError(`${what}: not JSON (${(e as Error).message}): ${preview(text)}`);
  }
}

/** A short printable excerpt of untrusted text for error messages. */
export function preview(text: string, max = 60): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}...` : clean);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function recordFromValue(v: unknown, what: string): ChatMemberRecord {
  if (!isObject(v)) throw new ChatProtocolError(`${what}: expected a JSON object`);
  const msgType = goField(v, 'msgType') ?? 0;
  if (msgType !== 0 && msgType !== 1 && msgType !== 2) {
    throw new ChatProtocolError(
      `${what}: msgType must be 0 (JOIN), 1 (LEAVE) or 2 (PING), got ${JSON.stringify(msgType)}`,
    );
  }
  const name = goField(v, 'name') ?? '';
  if (typeof name !== 'string') throw new ChatProtocolError(`${what}: name must be a string`);
  if (name === '') throw new ChatProtocolError(`${what}: name is missing`);
  const sender = goField(v, 'sender') ?? '';
  if (typeof sender !== 'string') throw new ChatProtocolError(`${what}: sender must be a string`);
  if (sender !== '' && !parseHostPort(sender)) {
    throw new ChatProtocolError(`${what}: sender ${preview(sender)} is not host:port`);
  }
  if (msgType === MsgType.JOIN && sender === '') {
    throw new ChatProtocolError(`${what}: a JOIN record needs the sender address`);
  }
  const record: ChatMemberRecord = { msgType, name, sender };
  const ts = goField(v, 'timestamp');
  if (ts !== undefined && ts !== null) record.timestamp = timestampFromValue(ts, what);
  return record;
}

function timestampFromValue(v: unknown, what: string): GoTimestamp {
  if (!isObject(v)) throw new ChatProtocolError(`${what}: timestamp must be an object`);
  const seconds = goField(v, 'seconds') ?? 0;
  const nanos = goField(v, 'nanos') ?? 0;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds)) {
    throw new ChatProtocolError(`${what}: timestamp.seconds must be an integer`);
  }
  if (typeof nanos !== 'number' || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new ChatProtocolError(`${what}: timestamp.nanos must be an integer in 0..999999999`);
  }
  return { seconds, nanos };
}

export function decodeMemberRecord(bytes: Uint8Array | string): ChatMemberRecord {
  const what = 'chat-member record';
  return recordFromValue(parseJson(bytes, MAX_RECORD_BYTES, what), what);
}

export interface RemoteState {
  members: Map<string, ChatMemberRecord>;
  /** One message per entry that was left out, so the caller can log what a peer sent wrong. */
  problems: string[];
}

/**
 * MergeRemoteState's input: `{name: record}`. The document must be a JSON object; a bad entry is
 * left out (and reported) rather than costing the good ones. Null entries are Go's nil pointers.
 */
export function decodeRemoteState(bytes: Uint8Array | string): RemoteState {
  const v = parseJson(bytes, MAX_STATE_BYTES, 'chat state');
  if (!isObject(v)) throw new ChatProtocolError('chat state: expected a JSON object of members');
  const keys = Object.keys(v);
  if (keys.length > MAX_STATE_MEMBERS) {
    throw new ChatProtocolError(
      `chat state: ${keys.length} members exceed the limit of ${MAX_STATE_MEMBERS}`,
    );
  }
  const members = new Map<string, ChatMemberRecord>();
  const problems: string[] = [];
  for (const key of keys) {
    if (v[key] === null) continue;
    try {
      const record = recordFromValue(v[key], `chat state member ${preview(key)}`);
      if (record.name !== key) {
        throw new ChatProtocolError(
          `chat state: key ${preview(key)} differs from the record's name ${preview(record.name)}`,
        );
      }
      members.set(key, record);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { members, problems };
}

/** `host:port` or `[v6]:port`, port 1..65535. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}
