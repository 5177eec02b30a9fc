import { tokenize } from '@isopeer/console';
import { TestkitError } from './errors.js';

/**
 * Placeholders a peer command template may use (`node app.js --name {name}`), each replaced
 * inside the words of the command after word splitting, so a value never splits into two words.
 */
export const PEER_PLACEHOLDERS = {
  name: "the peer's name in the script (`alice`)",
  test: 'the test name: the script file name without `.cmd`',
  test_server: 'base URL of the test server (also in env TEST_SIDECAR_SERVER)',
  bootstrap: 'base URL of the bootstrap service (also in env BOOTSTRAP_DATA_SERVER)',
  addr: "the peer's IP address: its own in a network namespace, 127.0.0.1 on loopback",
  state_dir: 'a directory of this peer inside the run directory (not created)',
} as const;

export type PeerPlaceholder = keyof typeof PEER_PLACEHOLDERS;
export type PeerPlaceholderValues = Record<PeerPlaceholder, string>;

/** A peer command template could not be used; the message says why. */
export class PeerCommandError extends TestkitError {
  constructor(message: string) {
    super('PEER_COMMAND', message);
  }
}

const PLACEHOLDER = /\{([A-Za-z_]\w*)\}/g;

/**
 * Splits a template into words (the console's rules: whitespace separates, double quotes group,
 * no shell) and checks its placeholders. Throws PeerCommandError.
 */
export function parsePeerTemplate(template: string): string[] {
  let words: string[];
  try {
    words = tokenize(template).words;
  } catch (err) {
    throw new PeerCommandError(
      `peer command ${JSON.stringify(template)}: ${(err as Error).message}`,
    );
  }
  if (words.length === 0) throw new PeerCommandError('peer command is empty');
  for (const w of words) {
    for (const m of w.matchAll(PLACEHOLDER)) {
      if (!Object.hasOwn(PEER_PLACEHOLDERS, m[1])) {
        throw new PeerCommandError(
          `unknown placeholder {${m[1]}} in peer command; known: ${Object.keys(PEER_PLACEHOLDERS)
            .map((k) => `{${k}}`)
            .join(' ')}`,
        );
      }
    }
  }
  return words;
}

/** The words of `template` with every placeholder replaced; the first word is the program. */
export function expandPeerTemplate(template: string, values: PeerPlaceholderValues): string[] {
  return parsePeerTemplate(template).map((w) =>
    w.replace(PLACEHOLDER, (_m, key: PeerPlaceholder) => values[key]),
  );
}

const PEER_PREFIX = /^([A-Za-z0-9][\w.-]{0,63})=(.*)$/s;

/** Peer commands from the command line: one default and per-peer overrides. */
export interface PeerTemplates {
  /** For every peer without a more specific command. */
  default?: string;
  /** `NAME=COMMAND`: for one peer, ahead of the script's `@peer` lines. */
  peers?: Record<string, string>;
}

/**
 * Reads `--peer-cmd` values: `COMMAND` sets the default, `NAME=COMMAND` the command of one peer.
 * Each is checked (placeholders, quoting); throws PeerCommandError.
 */
export function parsePeerTemplates(values: readonly string[]): PeerTemplates {
  const out: PeerTemplates = {};
  for (const v of values) {
    // `NAME=` counts as a peer prefix only at the very start (a name holds no spaces).
    const m = PEER_PREFIX.exec(v.trim());
    if (m) {
      parsePeerTemplate(m[2]);
      out.peers ??= {};
      if (out.peers[m[1]] !== undefined)
        throw new PeerCommandError(`two peer commands for ${m[1]}`);
      out.peers[m[1]] = m[2];
    } else {
      parsePeerTemplate(v);
      if (out.default !== undefined)
        throw new PeerCommandError('two default peer commands; give others as NAME=COMMAND');
      out.default = v;
    }
  }
  return out;
}
