// Checks of flag values shared by the subcommands, so one mistake reads the same everywhere:
// `--port "x" is not a port number (0-65535)` in `chat`, `node`, `bootstrap-server` and
// `test-server` alike. Each throws OptionError; the subcommand reports it as a usage error.
import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';

/** A flag value that cannot be used; the CLI prints the message and exits with status 2. */
export class OptionError extends Error {
  readonly code = 'ERR_OPTION';
}

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

export function portNumber(flag: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new OptionError(`${flag} ${quote(text)} is not a port number (0-65535)`);
  }
  return Number(text);
}

export function integerIn(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new OptionError(`${flag} ${quote(text)} is not a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

export function ipAddress(flag: string, text: string): string {
  if (isIP(text) === 0) throw new OptionError(`${flag} ${quote(text)} is not an IP address`);
  return text;
}

export function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    const list = `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
    throw new OptionError(`${flag} must be ${list}, not ${quote(text)}`);
  }
  return text as T;
}

export function seconds(flag: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new OptionError(`${flag} ${quote(text)} is not a number of seconds`);
  }
  return Number(text);
}

/** An AES key in base64 (16, 24 or 32 bytes); `what` names it in messages (`--key`). */
export function aesKey(what: string, text: string): Uint8Array {
  const key = Buffer.from(text, 'base64');
  // Node's decoder skips garbage silently; a round trip shows whether the text was base64.
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new OptionError(`${what} ${quote(text)} is not base64`);
  }
  if (![16, 24, 32].includes(key.length)) {
    throw new OptionError(
      `${what} is ${key.length} bytes; AES keys are 16, 24 or 32 bytes (AES-128/192/256)`,
    );
  }
  return new Uint8Array(key);
}

/** Commander's collector for a repeatable option. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
