// Go memberlist's configuration file format: loading (strict validation that names every wrong
// field), saving byte for byte as Go writes it, and conversion to and from `Config`. Presets in
// this form are `toGoConfig(defaultLocalConfig())` and so on: config.ts holds the only copy.
import { isIP } from 'node:net';
import { Keyring } from './codec/keyring.js';
import { type Config, defaultLocalConfig, validateLabel } from './config.js';
import {
  GO_CONFIG_FIELDS,
  GO_FIELD_NAMES,
  type GoFieldName,
  type GoFieldSpec,
  type GoIPNet,
  type GoMemberlistConfig,
  goFieldSpec,
} from './go-config-fields.js';

/** One wrong field of a configuration document. */
export interface GoConfigIssue {
  /** Go field name the issue is about, or '' for the document as a whole. */
  field: string;
  message: string;
}

/** A configuration document that does not validate (code `ERR_GO_CONFIG`); `issues` names every
 * bad field. */
export class GoConfigError extends Error {
  readonly code = 'ERR_GO_CONFIG';
  readonly issues: GoConfigIssue[];
  constructor(issues: GoConfigIssue[], source?: string) {
    const where = source ? `${source}: ` : '';
    const list = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
    super(`${where}invalid memberlist configuration: ${list}`);
    this.name = 'GoConfigError';
    this.issues = issues;
  }
}

/** Largest configuration document accepted. */
export const GO_CONFIG_MAX_BYTES = 1024 * 1024;

const NS_PER_MS = 1_000_000;

// ---- conversion ------------------------------------------------------------------------------

/**
 * The Go form of a configuration. Fields Go has and `Config` has not get Go's defaults; the
 * keyring is written as `SecretKey`, its primary key (the Go form holds one key).
 */
export function toGoConfig(config: Config): GoMemberlistConfig {
  const go: Record<string, unknown> = {};
  for (const f of GO_CONFIG_FIELDS as readonly GoFieldSpec[]) {
    go[f.name] = f.key === undefined ? (f.goDefault ?? null) : toGoValue(f, config[f.key]);
  }
  return go as GoMemberlistConfig;
}

function toGoValue(f: GoFieldSpec, v: unknown): unknown {
  switch (f.kind) {
    case 'duration':
      return Math.round((v as number) * NS_PER_MS);
    case 'secret-key': {
      const kr = v as Keyring | null;
      return kr ? Buffer.from(kr.primaryKey).toString('base64') : null;
    }
    case 'cidrs':
      return (
        (v as string[] | null)?.map((c) => {
          // A bare address in `Config` is a network of one.
          const net = cidrToGo(c.includes('/') ? c : `${c}/${isIP(c) === 4 ? 32 : 128}`);
          if (typeof net === 'string') throw new GoConfigError([{ field: f.name, message: net }]);
          return net;
        }) ?? null
      );
    default:
      return v;
  }
}

/**
 * `base` with every setting the Go form holds taken from `go` (a validated document, see
 * `parseGoConfig`). Settings Go has no field for (isopeer extensions) stay as in `base`. Throws
 * `GoConfigError` if `SecretKey` is not a usable AES key.
 */
export function fromGoConfig(go: GoMemberlistConfig, base: Config): Config {
  const config: Record<string, unknown> = { ...base };
  const values = go as unknown as Record<string, unknown>;
  for (const f of GO_CONFIG_FIELDS as readonly GoFieldSpec[]) {
    if (f.key !== undefined) config[f.key] = fromGoValue(f, values[f.name]);
  }
  return config as unknown as Config;
}

function fromGoValue(f: GoFieldSpec, v: unknown): unknown {
  switch (f.kind) {
    case 'duration':
      return (v as number) / NS_PER_MS;
    case 'secret-key':
      if (!v) return null;
      try {
        return new Keyring([Buffer.from(v as string, 'base64')]);
      } catch (e) {
        throw new GoConfigError([{ field: f.name, message: (e as Error).message }]);
      }
    case 'cidrs':
      return v === null ? null : (v as GoIPNet[]).map((n) => `${n.IP}/${prefixLength(n.Mask)}`);
    default:
      return v;
  }
}

function prefixLength(maskBase64: string): number {
  let bits = 0;
  for (const byte of Buffer.from(maskBase64, 'base64')) {
    for (let b = 7; b >= 0; b--) if (byte & (1 << b)) bits++;
  }
  return bits;
}

// ---- loading ---------------------------------------------------------------------------------

export interface GoConfigParseResult {
  config: GoMemberlistConfig;
  /** Fields present in the document (the others kept the base's values). */
  present: GoFieldName[];
  /** Things that were accepted but ignored (unknown fields, Go objects that cannot be loaded). */
  warnings: string[];
}

export interface GoConfigParseOptions {
  /** Values for fields the document leaves out (as Go's json.Unmarshal into an existing Config);
   * default Go's DefaultLocalConfig with an empty name. */
  base?: GoMemberlistConfig;
  /** File name for messages. */
  source?: string;
}

/**
 * Parses and validates a configuration document. Fields missing from it keep the values of
 * `opts.base`. Throws GoConfigError listing every wrong field; unknown fields are warnings unless
 * they look like a misspelt known field.
 */
export function parseGoConfig(text: string, opts: GoConfigParseOptions = {}): GoConfigParseResult {
  if (text.length > GO_CONFIG_MAX_BYTES) {
    throw new GoConfigError(
      [{ field: '', message: `document larger than ${GO_CONFIG_MAX_BYTES} bytes` }],
      opts.source,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new GoConfigError(
      [{ field: '', message: `not valid JSON: ${jsonErrorWhere(text, err as Error)}` }],
      opts.source,
    );
  }
  return validateGoConfig(value, opts);
}

/** Validates an already parsed document; see parseGoConfig. */
export function validateGoConfig(
  value: unknown,
  opts: GoConfigParseOptions = {},
): GoConfigParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GoConfigError(
      [{ field: '', message: `expected a JSON object, got ${describe(value)}` }],
      opts.source,
    );
  }
  const doc = value as Record<string, unknown>;
  const config = { ...(opts.base ?? toGoConfig({ ...defaultLocalConfig(), name: '' })) };
  const issues: GoConfigIssue[] = [];
  const warnings: string[] = [];
  const present: GoFieldName[] = [];
  const target = config as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    const spec = goFieldSpec(key);
    if (!spec) {
      const near = GO_FIELD_NAMES.find((n) => withinEdits(n.toLowerCase(), key.toLowerCase(), 2));
      if (near)
        issues.push({
          field: key,
          message: `unknown field; did you mean ${near}? (names are case-sensitive)`,
        });
      else
        warnings.push(
          `unknown field ${JSON.stringify(key)} ignored (not in memberlist 0.2.2's Config)`,
        );
      continue;
    }
    present.push(spec.name as GoFieldName);
    const r = checkField(spec, doc[key]);
    if ('error' in r) issues.push({ field: key, message: r.error });
    else {
      if (r.warning) warnings.push(`${key}: ${r.warning}`);
      target[key] = r.value;
    }
  }
  if (issues.length === 0) crossCheck(config, issues);
  if (issues.length > 0) throw new GoConfigError(issues, opts.source);
  return { config, present, warnings };
}

/**
 * Whether `a` becomes `b` with at most `k` single-character edits. Bounded, so a long unknown key
 * costs little: only names that are near a known one are typos worth refusing.
 */
function withinEdits(a: string, b: string, k: number): boolean {
  if (Math.abs(a.length - b.length) > k) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length || i === b.length) return Math.max(a.length, b.length) - i <= k;
  if (k === 0) return false;
  return (
    withinEdits(a.slice(i + 1), b.slice(i + 1), k - 1) ||
    withinEdits(a.slice(i + 1), b.slice(i), k - 1) ||
    withinEdits(a.slice(i), b.slice(i + 1), k - 1)
  );
}

type Checked = { value: unknown; warning?: string } | { error: string };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function checkField(spec: GoFieldSpec, v: unknown): Checked {
  switch (spec.kind) {
    case 'string':
      return typeof v === 'string'
        ? { value: v }
        : { error: `expected a string, got ${describe(v)}` };
    case 'ip':
    case 'optional-ip': {
      if (typeof v !== 'string')
        return { error: `expected an IP address string, got ${describe(v)}` };
      if (v === '' && spec.kind === 'optional-ip') return { value: v };
      return isIP(v)
        ? { value: v }
        : { error: `expected an IP address such as 127.0.0.1, got ${describe(v)}` };
    }
    case 'bool':
      return typeof v === 'boolean'
        ? { value: v }
        : { error: `expected true or false, got ${describe(v)}` };
    case 'int':
    case 'duration': {
      const unit =
        spec.kind === 'duration' ? ' (a duration in nanoseconds, e.g. 1000000000 for 1s)' : '';
      if (typeof v !== 'number') return { error: `expected an integer${unit}, got ${describe(v)}` };
      if (!Number.isSafeInteger(v)) return { error: `expected an integer${unit}, got ${v}` };
      const min = spec.min ?? 0;
      if (v < min) {
        return {
          error:
            spec.kind === 'duration'
              ? `negative duration ${v}`
              : `must be at least ${min}, got ${v}`,
        };
      }
      if (spec.max !== undefined && v > spec.max)
        return { error: `must be between ${min} and ${spec.max}, got ${v}` };
      return { value: v };
    }
    case 'secret-key': {
      if (v === null) return { value: null };
      if (typeof v !== 'string')
        return { error: `expected null or a base64 string, got ${describe(v)}` };
      const bytes = decodeBase64(v);
      if (!bytes) return { error: 'not valid base64' };
      if (v !== '' && ![16, 24, 32].includes(bytes.length)) {
        return { error: `key must be 16, 24 or 32 bytes (AES-128/192/256), got ${bytes.length}` };
      }
      return { value: v };
    }
    case 'opaque':
      if (v === null) return { value: null };
      if (typeof v === 'object' && !Array.isArray(v)) {
        return { value: null, warning: 'a Go object that cannot be loaded from JSON; ignored' };
      }
      return { error: `expected null (a Go object that cannot be loaded), got ${describe(v)}` };
    case 'cidrs':
      return checkCidrs(v);
    case 'label':
      if (typeof v !== 'string') return { error: `expected a string, got ${describe(v)}` };
      try {
        validateLabel(v);
      } catch (e) {
        return { error: (e as Error).message };
      }
      return { value: v };
  }
}

function checkCidrs(v: unknown): Checked {
  if (v === null) return { value: null };
  if (!Array.isArray(v))
    return { error: `expected null or an array of networks, got ${describe(v)}` };
  const nets: GoIPNet[] = [];
  for (const [i, n] of v.entries()) {
    const net = typeof n === 'string' ? cidrToGo(n) : goIPNet(n);
    if (typeof net === 'string') return { error: `entry ${i}: ${net}` };
    nets.push(net);
  }
  return { value: nets };
}

/** Accepts Go's `{"IP": "10.0.0.0", "Mask": "/wAAAA=="}`. */
function goIPNet(n: unknown): GoIPNet | string {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) {
    return `expected {"IP": ..., "Mask": ...} or "a.b.c.d/len", got ${describe(n)}`;
  }
  const { IP, Mask, ...extra } = n as Record<string, unknown>;
  if (Object.keys(extra).length > 0) return `unexpected key ${Object.keys(extra)[0]}`;
  if (typeof IP !== 'string' || isIP(IP) === 0)
    return `IP must be an IP address, got ${describe(IP)}`;
  if (typeof Mask !== 'string') return `Mask must be base64 bytes, got ${describe(Mask)}`;
  const mask = decodeBase64(Mask);
  const want = isIP(IP) === 4 ? [4, 16] : [16];
  if (!mask || !want.includes(mask.length))
    return `Mask must be base64 of ${want.join(' or ')} bytes`;
  const bits = [...mask].map((b) => b.toString(2).padStart(8, '0')).join('');
  if (/01/.test(bits)) return 'Mask is not a prefix mask (ones must come before zeros)';
  return { IP, Mask };
}

/** Also accepts the friendlier `"10.0.0.0/8"`, stored in Go's form. */
function cidrToGo(s: string): GoIPNet | string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const family = m ? isIP(m[1]) : 0;
  const bits = m ? Number(m[2]) : -1;
  const size = family === 4 ? 4 : 16;
  if (!m || family === 0 || bits > size * 8)
    return `expected a network such as 10.0.0.0/8, got ${describe(s)}`;
  const mask = Buffer.alloc(size);
  for (let b = 0; b < bits; b++) mask[b >> 3] |= 0x80 >> (b & 7);
  return { IP: m[1], Mask: mask.toString('base64') };
}

function decodeBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

function crossCheck(c: GoMemberlistConfig, issues: GoConfigIssue[]): void {
  if (c.DelegateProtocolMin > c.DelegateProtocolMax) {
    issues.push({
      field: 'DelegateProtocolMin',
      message: `greater than DelegateProtocolMax (${c.DelegateProtocolMax})`,
    });
  } else if (
    c.DelegateProtocolVersion < c.DelegateProtocolMin ||
    c.DelegateProtocolVersion > c.DelegateProtocolMax
  ) {
    issues.push({
      field: 'DelegateProtocolVersion',
      message: `must lie between DelegateProtocolMin (${c.DelegateProtocolMin}) and DelegateProtocolMax (${c.DelegateProtocolMax})`,
    });
  }
  if (c.ProbeInterval > 0 && c.ProbeTimeout > c.ProbeInterval) {
    issues.push({
      field: 'ProbeTimeout',
      message: `longer than ProbeInterval (${c.ProbeInterval} ns)`,
    });
  }
}

function jsonErrorWhere(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${col}`;
}

// ---- saving ----------------------------------------------------------------------------------

/**
 * The document exactly as Go's `json.MarshalIndent(config, "", "\t")` plus a newline writes it,
 * so a file saved here and one saved by the prototype are byte-for-byte alike.
 */
export function serializeGoConfig(config: GoMemberlistConfig): string {
  const values = config as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const f of GO_CONFIG_FIELDS as readonly GoFieldSpec[]) {
    // Fields newer than 0.2.2 appear only when used (see GoFieldSpec.since).
    if (f.since !== undefined && !values[f.name]) continue;
    ordered[f.name] = f.kind === 'opaque' ? null : values[f.name];
  }
  // Go escapes these characters inside strings; JSON.stringify does not.
  const json = JSON.stringify(ordered, null, '\t').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${json}\n`;
}

/** Names of the fields whose values differ. */
export function diffGoConfig(a: GoMemberlistConfig, b: GoMemberlistConfig): GoFieldName[] {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  return GO_FIELD_NAMES.filter((n) => JSON.stringify(x[n]) !== JSON.stringify(y[n]));
}

/**
 * The Go form as a file format for a configuration editor (the console's `/showconfig`,
 * `/saveconfig`, `/loadconfig`): parse, serialise, compare, and the field names with their docs.
 */
export const goConfigFormat = {
  title: 'memberlist configuration',
  notation: "JSON in Go's format: Go field names, durations in nanoseconds",
  fields: GO_FIELD_NAMES,
  maxBytes: GO_CONFIG_MAX_BYTES,
  doc: (field: string): string | undefined => goFieldSpec(field)?.doc,
  parse: (text: string, opts: { base: GoMemberlistConfig; source?: string }) =>
    parseGoConfig(text, opts),
  serialize: serializeGoConfig,
  diff: diffGoConfig,
  hasSecret: (config: GoMemberlistConfig): boolean => Boolean(config.SecretKey),
  /** The configuration with the secret key replaced by `placeholder`, for showing. */
  redact: (config: GoMemberlistConfig, placeholder: string): GoMemberlistConfig =>
    config.SecretKey ? { ...config, SecretKey: placeholder } : config,
};
