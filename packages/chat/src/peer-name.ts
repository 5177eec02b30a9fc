/**
 * Node names: a peer started by `init` is `<name>-<hostname>-<uuid>` in memberlist, and the uuid
 * doubles as its id in the bootstrap service. People see the short `<name>`: our peers announce it
 * as node metadata; for peers that do not (the Go prototype), the original's rule applies (the
 * text before the first `-`).
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[^\s/<>]{1,64}$/u;

export function isValidChatName(name: string): boolean {
  return NAME.test(name) && !/[\x00-\x1f\x7f]/.test(name);
}

export function nodeNameFor(name: string, hostname: string, uuid: string): string {
  return `${name}-${hostname}-${uuid}`;
}

/** The uuid at the end of a node name (the bootstrap id of peers started by `init`), if any. */
export function uuidOfNodeName(nodeName: string): string | undefined {
  const m = UUID.exec(nodeName);
  return m && nodeName.length > m[0].length && nodeName[m.index - 1] === '-' ? m[0] : undefined;
}

/** The short name of a member: its metadata when that is a plausible prefix, else Go's rule. */
export function displayNameOf(nodeName: string, meta?: Uint8Array | null): string {
  if (meta && meta.length > 0 && meta.length <= 64) {
    const text = Buffer.from(meta).toString('utf8');
    if (isValidChatName(text) && nodeName.startsWith(`${text}-`)) return text;
  }
  return nodeName.split('-')[0] || nodeName;
}
