/**
 * Key/value updates of `broadcastadd` / `broadcastdel`: a memberlist user message whose first byte
 * is `d`, followed by Go's json.Marshal of `[]*update{Action string; Data map[string]string}`
 * (no json tags, so the keys are `Action` and `Data`; map keys sorted by bytes). A delete carries
 * the key with an empty value, as the original sends it.
 */
import { ChatProtocolError } from './errors.js';
import { goField, goJsonString, goSortedKeys } from './go-json.js';
import { preview } from './member-record.js';

export type KvAction = 'add' | 'del';
export interface KvUpdate {
  Action: KvAction;
  Data: Record<string, string>;
}

export const KV_PREFIX = 0x64; // 'd'
export const MAX_KV_BYTES = 64 * 1024;

export function isKvMessage(msg: Uint8Array): boolean {
  return msg.length > 0 && msg[0] === KV_PREFIX;
}

export function encodeKvUpdates(updates: readonly KvUpdate[]): Uint8Array {
  const items = updates.map((u) => {
    const data = goSortedKeys(Object.keys(u.Data))
      .map((k) => `${goJsonString(k)}:${goJsonString(u.Data[k]!)}`)
      .join(',');
    return `{"Action":${goJsonString(u.Action)},"Data":{${data}}}`;
  });
  return Buffer.from(`d[${items.join(',')}]`, 'utf8');
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export function decodeKvUpdates(msg: Uint8Array): KvUpdate[] {
  if (!isKvMessage(msg)) throw new ChatProtocolError('key/value update: must start with "d"');
  if (msg.length > MAX_KV_BYTES) {
    throw new ChatProtocolError(`key/value update: ${msg.length} bytes exceeds ${MAX_KV_BYTES}`);
  }
  const text = utf8.decode(msg.subarray(1));
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ChatProtocolError(
      `key/value update: not JSON (${(e as Error).message}): ${preview(text)}`,
    );
  }
  if (!Array.isArray(v)) throw new ChatProtocolError('key/value update: expected a JSON array');
  return v.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ChatProtocolError(`key/value update [${i}]: expected an object`);
    }
    const action = goField(item as Record<string, unknown>, 'Action');
    if (action !== 'add' && action !== 'del') {
      throw new ChatProtocolError(
        `key/value update [${i}]: Action must be "add" or "del", got ${JSON.stringify(action)}`,
      );
    }
    const data = goField(item as Record<string, unknown>, 'Data') ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new ChatProtocolError(`key/value update [${i}]: Data must be an object`);
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(data)) {
      if (typeof val !== 'string') {
        throw new ChatProtocolError(
          `key/value update [${i}]: Data[${preview(k)}] must be a string`,
        );
      }
      out[k] = val;
    }
    return { Action: action, Data: out };
  });
}
