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

export type Preset = 'local' | 'lan' | 'wan';

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
}

/** A flag value that cannot be used; the CLI prints the message and exits with status 2. */
export class NodeOptionError extends Error {
  readonly code = 'ERR_NODE_OPTION';
}

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

function integer(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value))
    throw new NodeOptionError(`${flag} must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max)
    throw new NodeOptionError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function decodeKey(b64: string): Uint8Array {
  const key = Buffer.from(b64, 'base64');
  // Node's decoder skips garbage silently; a round trip shows whether the text was base64.
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
    throw new NodeOptionError(`--key ${JSON.stringify(b64)} is not base64`);
  }
  if (![16, 24, 32].includes(key.length)) {
    throw new NodeOptionError(
      `--key must decode to 16, 24 or 32 bytes (AES-128/192/256), got ${key.length}`,
    );
  }
  return new Uint8Array(key);
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
}

export function parseNodeOptions(raw: RawNodeFlags, hostname: string): NodeOptions {
  const config = raw.config ?? 'local';
  if (config !== 'local' && config !== 'lan' && config !== 'wan') {
    throw new NodeOptionError(`--config must be local, lan or wan, got ${JSON.stringify(config)}`);
  }
  const count = raw.count === undefined ? undefined : integer('--count', raw.count, 1, 10_000);
  const port = integer('--port', raw.port ?? '0', 0, 65535 - ((count ?? 1) - 1));
  const meta = raw.meta ?? '';
  if (Buffer.byteLength(meta) > META_MAX_SIZE) {
    throw new NodeOptionError(
      `--meta is ${Buffer.byteLength(meta)} bytes, the limit is ${META_MAX_SIZE}`,
    );
  }
  const label = raw.label ?? '';
  try {
    validateLabel(label);
  } catch (err) {
    throw new NodeOptionError(`--label: ${(err as Error).message}`);
  }
  const name = raw.name ?? hostname;
  if (name.length === 0) throw new NodeOptionError('--name must not be empty');
  return {
    name,
    bind: raw.bind ?? '127.0.0.1',
    port,
    join: splitAddresses(raw.join ?? ''),
    config,
    meta,
    keys: (raw.key ?? []).map(decodeKey),
    label,
    skipInboundLabelCheck: raw.skipInboundLabelCheck === true,
    count,
  };
}
