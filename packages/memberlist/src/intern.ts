// Shared copies of the small immutable values node records hold. Every node of a process keeps
// a record of every member, so with N nodes in one process each member's name, address and
// version bytes exist N times; and a V8 typed array costs about 200 bytes of heap whatever it
// holds (the view, its buffer and the bytes), which made two 6- and 4-byte arrays the largest
// part of a record (issue 17: RSS per added node). Records never modify these values, so one
// copy can serve them all. Each table is bounded: past its size it starts over, so values
// learnt from untrusted peers cannot grow it without limit (a cleared table only costs sharing).

const MAX_ENTRIES = 4096;
const bytes = new Map<string, Uint8Array>();
const strings = new Map<string, string>();

/** A shared, never-to-be-modified copy of `b` (a record's address, version or metadata). */
export function internBytes(b: Uint8Array): Uint8Array {
  // Latin-1 code units: one per byte, so the key is exact.
  const key = String.fromCharCode.apply(null, b as unknown as number[]);
  const hit = bytes.get(key);
  if (hit !== undefined) return hit;
  if (bytes.size >= MAX_ENTRIES) bytes.clear();
  const own = b.slice();
  bytes.set(key, own);
  return own;
}

/** The shared instance of a string equal to `s` (a record's name or address). */
export function internString(s: string): string {
  const hit = strings.get(s);
  if (hit !== undefined) return hit;
  if (strings.size >= MAX_ENTRIES) strings.clear();
  strings.set(s, s);
  return s;
}

/** How many values each table holds (for tests of the bound). */
export function internedCounts(): { bytes: number; strings: number } {
  return { bytes: bytes.size, strings: strings.size };
}
