/**
 * AES-GCM sealing as memberlist 0.2.2 does it (docs/spec/memberlist-wire.md §5.5, §6.2):
 * `version(1) | nonce(12) | ciphertext | tag(16)`. Version 1 seals the plaintext as is;
 * version 0 (used by protocol-1 senders) PKCS#7-pads it to a multiple of 16 first.
 * UDP datagrams use no additional data; stream frames use their 5 header bytes.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CodecError } from './errors.js';
import { Keyring, validateKey } from './keyring.js';
import { allocBytes } from './msgpack.js';

export type EncryptionVersion = 0 | 1;

export const VERSION_SIZE = 1;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;
const BLOCK_SIZE = 16;
/** Smallest valid blob per version (v0 always carries at least one padding block). */
export const MIN_ENCRYPTED_LENGTH_V1 = VERSION_SIZE + NONCE_SIZE + TAG_SIZE;
export const MIN_ENCRYPTED_LENGTH_V0 = MIN_ENCRYPTED_LENGTH_V1 + BLOCK_SIZE;

/** Bytes a sealed message occupies for a plaintext of `n` bytes. */
export function encryptedLength(version: EncryptionVersion, n: number): number {
  if (version === 1) return MIN_ENCRYPTED_LENGTH_V1 + n;
  return MIN_ENCRYPTED_LENGTH_V1 + n + (BLOCK_SIZE - (n % BLOCK_SIZE));
}

/** The budget a sender reserves for encryption (§1.3): 29 bytes for v1, 45 for v0. */
export function encryptionOverhead(version: EncryptionVersion): number {
  return version === 1 ? MIN_ENCRYPTED_LENGTH_V1 : MIN_ENCRYPTED_LENGTH_V0;
}

function cipherName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

/**
 * Seals `plaintext` with `key`. `nonce` is only for reproducing test vectors: real traffic must
 * use the default, a fresh random nonce per message.
 */
export function encryptPayload(
  version: EncryptionVersion,
  key: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  if (version !== 0 && version !== 1) {
    throw new CodecError('policy', `unsupported encryption version ${version}`);
  }
  validateKey(key);
  const iv = nonce ?? randomBytes(NONCE_SIZE);
  if (iv.length !== NONCE_SIZE) {
    throw new CodecError('malformed', `nonce must be ${NONCE_SIZE} bytes, got ${iv.length}`);
  }
  const out = allocBytes(encryptedLength(version, plaintext.length));
  out[0] = version;
  out.set(iv, VERSION_SIZE);
  const cipher = createCipheriv(cipherName(key), key, iv);
  if (aad && aad.length > 0) cipher.setAAD(aad);
  let pos = VERSION_SIZE + NONCE_SIZE;
  const body = cipher.update(plaintext);
  out.set(body, pos);
  pos += body.length;
  if (version === 0) {
    const pad = BLOCK_SIZE - (plaintext.length % BLOCK_SIZE);
    const padding = cipher.update(new Uint8Array(pad).fill(pad));
    out.set(padding, pos);
    pos += padding.length;
  }
  const rest = cipher.final();
  out.set(rest, pos);
  pos += rest.length;
  out.set(cipher.getAuthTag(), pos);
  return out;
}

function tryKey(key: Uint8Array, blob: Uint8Array, aad: Uint8Array | undefined): Uint8Array | null {
  const iv = blob.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE);
  const tagStart = blob.length - TAG_SIZE;
  try {
    const d = createDecipheriv(cipherName(key), key, iv);
    if (aad && aad.length > 0) d.setAAD(aad);
    d.setAuthTag(blob.subarray(tagStart));
    const a = d.update(blob.subarray(VERSION_SIZE + NONCE_SIZE, tagStart));
    const b = d.final();
    if (b.length === 0) return new Uint8Array(a.buffer, a.byteOffset, a.length);
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  } catch {
    // Authentication failure with this key: the caller tries the next one.
    return null;
  }
}

/**
 * Opens a sealed blob with the first key (in keyring order) that authenticates it. Rejects
 * unknown versions, blobs too short for their version, and (v0) impossible padding.
 */
export function decryptPayload(
  keyring: Keyring | Uint8Array[],
  blob: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  const keys = keyring instanceof Keyring ? keyring.keys : keyring;
  if (keys.length === 0) throw new CodecError('decrypt-failed', 'no keys installed');
  if (blob.length === 0) throw new CodecError('decrypt-failed', 'empty encrypted payload');
  const version = blob[0];
  if (version > 1) {
    throw new CodecError('decrypt-failed', `unsupported encryption version ${version}`);
  }
  const min = version === 1 ? MIN_ENCRYPTED_LENGTH_V1 : MIN_ENCRYPTED_LENGTH_V0;
  if (blob.length < min) {
    throw new CodecError(
      'decrypt-failed',
      `encrypted payload too short for version ${version}: ${blob.length} < ${min} bytes`,
    );
  }
  for (const key of keys) {
    const plain = tryKey(key, blob, aad);
    if (plain === null) continue;
    if (version === 1) return plain;
    const pad = plain[plain.length - 1];
    if (pad === 0 || pad > BLOCK_SIZE || pad > plain.length) {
      throw new CodecError('decrypt-failed', `invalid PKCS#7 padding byte ${pad}`);
    }
    return plain.subarray(0, plain.length - pad);
  }
  throw new CodecError('decrypt-failed', 'no installed key could decrypt the message');
}
