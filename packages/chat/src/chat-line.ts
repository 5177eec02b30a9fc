/**
 * Chat lines: one line `<NAME> TEXT\n` per TCP connection to a member's chat listener. Lines that
 * begin with a status tag are shown as status lines; everything else as a chat message, as is.
 */

export type StatusTag = 'joined' | 'left' | 'info' | 'warn' | 'error';
export type ChatLineKind = 'message' | 'info' | 'warn' | 'error';

/** The original's colours: joined/info green, left/warn yellow, error red. */
const TAG_KIND: Record<StatusTag, ChatLineKind> = {
  joined: 'info',
  info: 'info',
  left: 'warn',
  warn: 'warn',
  error: 'error',
};

export function chatLine(name: string, text: string): string {
  return `<${name}> ${text}\n`;
}

export function statusLine(tag: StatusTag, text: string): string {
  return `<${tag}> ${text}\n`;
}

/** The status tag a received line starts with (first whitespace-separated word), if any. */
export function statusTagOf(line: string): StatusTag | undefined {
  const m = /^\s*<(joined|left|info|warn|error)>(?:\s|$)/.exec(line);
  return m ? (m[1] as StatusTag) : undefined;
}

export function lineKind(line: string): ChatLineKind {
  const tag = statusTagOf(line);
  return tag ? TAG_KIND[tag] : 'message';
}

/**
 * Makes a typed or received text safe for one line on the wire and on a terminal: newlines would
 * split it into several messages, and control characters (escape sequences) could repaint the
 * receiver's screen.
 */
export function sanitizeLine(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '\ufffd');
}

/**
 * A received line as shown when it came from an address that is not a current member's. The
 * protocol carries no sender authentication (anyone who can connect can send `<alice> hi`), so
 * the line is shown, but marked with where it came from; the mark also keeps a stranger's
 * `<error> ...` from being coloured as a status line.
 */
export function strangerLine(ip: string, line: string): string {
  return `[not a member: ${ip}] ${line}`;
}
