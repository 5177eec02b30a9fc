// Shared copies of the small immutable values node records hold. Every node of a process keeps
// a record of every member, so with N nodes in one process each member's name, address and
// version bytes exist N times; and a V8 typed array costs about 200 bytes of heap whatever it
// holds (the view, its buffer and the bytes), which made two 6- and 4-byte arrays the largest
// part of a record (issue 17: RSS per added node). Records never modify these values, so one
// copy can serve them all. The tables are bounded (values come from peers); a table that starts
// over only costs sharing.
import { BoundedCache } from './bounded-cache.js';

const MAX_ENTRIES = 4096;
/** Keyed by the bytes as Latin-1 code units, one per byte, so the key is exact. */
const bytes = new BoundedCache<string, Uint8Array>(MAX_ENTRIES, (key) =>
  Uint8Array.from(key, (c) => c.charCodeAt(0)),
);
const strings = new BoundedCache<string, string>(MAX_ENTRIES, (s) => s);

/** A shared, never-to-be-modified copy of `b` (a record's address, version or metadata). */
export function internBytes(b: Uint8Array): Uint8Array {
  return bytes.get(String.fromCharCode.apply(null, b as unknown as number[]));
}

/** The shared instance of a string equal to `s` (a record's name or address). */
export function internString(s: string): string {
  return strings.get(s);
}

/** How many values each table holds (for tests of the bound). */
export function internedCounts(): { bytes: number; strings: number } {
  return { bytes: bytes.size, strings: strings.size };
}
