/**
 * The 6-byte `Vsn` array carried by alive messages and push/pull records (docs/spec/memberlist-wire.md §14.2):
 * `[PMin, PMax, PCur, DMin, DMax, DCur]`. Go peers crash on 1–5 bytes, so the encoders refuse
 * anything but 6; this module builds and parses it.
 */
import { CodecError } from './errors.js';

export interface VersionInfo {
  /** Lowest memberlist protocol version this node speaks. */
  pMin: number;
  /** Highest memberlist protocol version this node understands (features gate on the peer's pMax). */
  pMax: number;
  /** Protocol version this node speaks now. */
  pCur: number;
  dMin: number;
  dMax: number;
  dCur: number;
}

export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_2_COMPATIBLE = 2;
export const PROTOCOL_VERSION_MAX = 5;

export const VSN_LENGTH = 6;

export function encodeVsn(v: VersionInfo): Uint8Array {
  const out = new Uint8Array(VSN_LENGTH);
  const values = [v.pMin, v.pMax, v.pCur, v.dMin, v.dMax, v.dCur];
  for (let i = 0; i < VSN_LENGTH; i++) {
    const x = values[i];
    if (!Number.isInteger(x) || x < 0 || x > 255) {
      throw new CodecError('malformed', `Vsn element ${i} must be an integer 0..255, got ${x}`);
    }
    out[i] = x;
  }
  return out;
}

/** Parses a received Vsn; anything but 6 bytes is `malformed`. */
export function decodeVsn(vsn: Uint8Array): VersionInfo {
  if (vsn.length !== VSN_LENGTH) {
    throw new CodecError('malformed', `Vsn must be ${VSN_LENGTH} bytes, got ${vsn.length}`);
  }
  return { pMin: vsn[0], pMax: vsn[1], pCur: vsn[2], dMin: vsn[3], dMax: vsn[4], dCur: vsn[5] };
}

/** What a default Go 0.2.2 node advertises: protocol 1..5 speaking 2, delegate versions 0. */
export function defaultVsn(): Uint8Array {
  return encodeVsn({
    pMin: PROTOCOL_VERSION_MIN,
    pMax: PROTOCOL_VERSION_MAX,
    pCur: PROTOCOL_VERSION_2_COMPATIBLE,
    dMin: 0,
    dMax: 0,
    dCur: 0,
  });
}
