/**
 * The few pieces of Go's `encoding/json` that matter for byte-exact output: string escaping
 * (HTML-safe by default: `<`, `>`, `&`, U+2028, U+2029 become `\u` escapes, control characters
 * other than \n \r \t become `\u00XX` with lower-case hex, as in Go 1.12 to 1.21) and map keys
 * sorted by their UTF-8 bytes. Everything else the chat layer writes is plain integers.
 */

const HEX = '0123456789abcdef';

export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0x22 || c === 0x5c) out += `\\${s[i]}`;
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) {
        out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      } else out += s[i];
    } else if (c === 0x2028 || c === 0x2029) {
      out += c === 0x2028 ? '\\u2028' : '\\u2029';
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += '\\ufffd'; // a lone surrogate is invalid UTF-8 once encoded; Go writes U+FFFD
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\\ufffd';
    } else out += s[i];
  }
  return `${out}"`;
}

/** Keys in the order Go's encoding/json writes a map[string]T: by UTF-8 byte order. */
export function goSortedKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** Go's case folding for ASCII field names: also matches the Kelvin sign and the long s. */
function goFold(key: string): string {
  return key
    .replace(/\u017f/g, 's')
    .replace(/\u212a/g, 'k')
    .toLowerCase();
}

/**
 * Looks a struct field up the way Go's decoder fills it: keys are applied in document order and
 * each one that equals the field name case-insensitively overwrites it, so the last match wins.
 */
export function goField(obj: Record<string, unknown>, field: string): unknown {
  const folded = field.toLowerCase();
  let value: unknown;
  for (const k of Object.keys(obj)) {
    if (k === field || goFold(k) === folded) value = obj[k];
  }
  return value;
}
