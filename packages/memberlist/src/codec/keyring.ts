/**
 * The set of AES keys a node accepts (docs/spec/memberlist-wire.md §5.5). The primary key (index 0) encrypts
 * everything sent; every installed key is tried when decrypting, so keys can be rotated in a
 * live cluster: install the new key everywhere, make it primary everywhere, then remove the old.
 */
import { CodecError } from './errors.js';

/** AES-128, AES-192 and AES-256: the key length selects the cipher, as in Go. */
export const VALID_KEY_LENGTHS: readonly number[] = [16, 24, 32];

export function validateKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) {
    throw new CodecError('malformed', 'encryption key must be a Uint8Array');
  }
  if (!VALID_KEY_LENGTHS.includes(key.length)) {
    throw new CodecError(
      'malformed',
      `encryption key must be 16, 24 or 32 bytes (AES-128/192/256), got ${key.length}`,
    );
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Keyring {
  private list: Uint8Array[];

  /** `keys[0]` becomes the primary key; duplicates are kept once. At least one key is required. */
  constructor(keys: Uint8Array[]) {
    if (keys.length === 0) {
      throw new CodecError('policy', 'a keyring needs at least one key (the primary)');
    }
    this.list = [];
    for (const k of keys) {
      validateKey(k);
      if (!this.list.some((x) => sameKey(x, k))) this.list.push(k.slice());
    }
  }

  /** The key every outgoing message is encrypted with. */
  get primaryKey(): Uint8Array {
    return this.list[0];
  }

  /** All installed keys, primary first (copies of the list, not of the keys). */
  get keys(): Uint8Array[] {
    return this.list.slice();
  }

  has(key: Uint8Array): boolean {
    return this.list.some((x) => sameKey(x, key));
  }

  /** Installs a key for decryption; it does not become primary. Installing twice is a no-op. */
  addKey(key: Uint8Array): void {
    validateKey(key);
    if (!this.has(key)) this.list.push(key.slice());
  }

  /** Makes an installed key the primary one. */
  useKey(key: Uint8Array): void {
    validateKey(key);
    const i = this.list.findIndex((x) => sameKey(x, key));
    if (i < 0) throw new CodecError('policy', 'cannot use a key that is not installed');
    if (i === 0) return;
    const [k] = this.list.splice(i, 1);
    this.list.unshift(k);
  }

  /** Removes a secondary key. The primary cannot be removed; removing an unknown key is a no-op. */
  removeKey(key: Uint8Array): void {
    validateKey(key);
    if (sameKey(this.list[0], key)) {
      throw new CodecError(
        'policy',
        'cannot remove the primary key; make another key primary first',
      );
    }
    this.list = this.list.filter((x) => !sameKey(x, key));
  }
}
