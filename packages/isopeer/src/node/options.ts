// Flags of `isopeer node`, validated into the settings one node process runs with.
import { Buffer } from 'node:buffer';
import {
  type Config,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  META_MAX_SIZE,
  validateLabel,
} from '@isopeer/memberlist';
import { aesKey, integerIn, ipAddress, OptionError, oneOf, portNumber } from '../cli-options.js';

export type Preset = 'local' | 'lan' | 'wan';
const PRESETS: readonly Preset[] = ['local', 'lan', 'wan'];

export interface NodeOptions {
  name: string;
  bind: string;
  port: number;
  join: string[];
  config: Preset;
  meta: string;
  /** Decoded keys, primary first. */
  keys: Uint8Array[];
  /** Cluster label ('' = none) and Go's SkipInboundLabelCheck. */
  label: string;
  skipInboundLabelCheck: boolean;
  /** Number of in-process nodes; undefined without --count. */
  count: number | undefined;
  /**
   * With --count: node i > 0 starts its join to node 0 i × this many ms after the nodes have
   * started (0 = all at once). Node 0, and a process without --count, are not affected.
   */
  joinStaggerMs: number;
}

/** The largest --join-stagger-ms: 10 000 nodes × 60 s still fit a Node.js timer (2^31 - 1 ms). */
export const MAX_JOIN_STAGGER_MS = 60_000;

export function presetConfig(preset: Preset): Config {
  switch (preset) {
    case 'local':
      return defaultLocalConfig();
    case 'lan':
      return defaultLANConfig();
    case 'wan':
      return defaultWANConfig();
  }
}

/** Splits `H:P[,H:P...]`, dropping empty entries. */
export function splitAddresses(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A key of the line protocol's `key` command or of `--key`. */
export function decodeKey(b64: string, what = '--key'): Uint8Array {
  return aesKey(what, b64);
}

export interface RawNodeFlags {
  name?: string;
  bind?: string;
  port?: string;
  join?: string;
  config?: string;
  meta?: string;
  key?: string[];
  label?: string;
  skipInboundLabelCheck?: boolean;
  count?: string;
  joinStaggerMs?: string;
}

export function parseNodeOptions(raw: RawNodeFlags, hostname: string): NodeOptions {
  const config = oneOf('--config', raw.config ?? 'local', PRESETS);
  const count = raw.count === undefined ? undefined : integerIn('--count', raw.count, 1, 10_000);
  const joinStaggerMs = integerIn(
    '--join-stagger-ms',
    raw.joinStaggerMs ?? '0',
    0,
    MAX_JOIN_STAGGER_MS,
  );
  const port = portNumber('--port', raw.port ?? '0');
  if (count !== undefined && port !== 0 && port + count - 1 > 65535) {
    throw new OptionError(`--port ${port} leaves no room for --count ${count} ports`);
  }
  const meta = raw.meta ?? '';
  if (Buffer.byteLength(meta) > META_MAX_SIZE) {
    throw new OptionError(
      `--meta is ${Buffer.byteLength(meta)} bytes, the limit is ${META_MAX_SIZE}`,
    );
  }
  const label = raw.label ?? '';
  try {
    validateLabel(label);
  } catch (err) {
    throw new OptionError(`--label: ${(err as Error).message}`);
  }
  const name = raw.name ?? hostname;
  if (name.length === 0) throw new OptionError('--name must not be empty');
  return {
    name,
    bind: ipAddress('--bind', raw.bind ?? '127.0.0.1'),
    port,
    join: splitAddresses(raw.join ?? ''),
    config,
    meta,
    keys: (raw.key ?? []).map((k) => decodeKey(k)),
    label,
    skipInboundLabelCheck: raw.skipInboundLabelCheck === true,
    count,
    joinStaggerMs,
  };
}
