import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ConsoleError } from './errors.js';

/**
 * Structured logging with one level per subsystem, changeable at runtime.
 *
 * Records are written as JSON lines (one object per line: `ts`, `level`, `subsystem`, `msg`, then
 * the record's fields), which `jq` and log shippers read without a custom parser. Writing is
 * asynchronous and bounded: when the file cannot keep up, records are dropped and counted rather
 * than blocking the peer or growing memory without limit; a failing file is closed and reported
 * through the `sinkError` event, never thrown at the code that logs.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
export type RecordLevel = Exclude<LogLevel, 'off'>;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'off'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export interface LogRecord {
  ts: number;
  level: RecordLevel;
  subsystem: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export interface SubLogger {
  readonly subsystem: string;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: RecordLevel): boolean;
}

export interface LoggerOptions {
  /** Level of subsystems without their own level; default `info`. */
  defaultLevel?: LogLevel;
  /** Initial per-subsystem levels. */
  levels?: Record<string, LogLevel>;
  /** Bytes the file may lag behind before records are dropped; default 8 MiB. */
  maxBufferedBytes?: number;
}

const SUBSYSTEM = /^[A-Za-z0-9_.-]+$/;
const RESERVED = new Set(['ts', 'level', 'subsystem', 'msg']);

export class Logger extends EventEmitter {
  #defaultLevel: LogLevel;
  readonly #levels = new Map<string, LogLevel>();
  readonly #known = new Set<string>();
  readonly #maxBuffered: number;
  #sink: { path: string; stream: WriteStream } | undefined;
  #written = 0;
  #dropped = 0;

  constructor(opts: LoggerOptions = {}) {
    super();
    this.#defaultLevel = opts.defaultLevel ?? 'info';
    this.#maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    for (const [s, l] of Object.entries(opts.levels ?? {})) this.setLevel(s, l);
  }

  /** A logger bound to one subsystem; the subsystem then shows up in `/loglevel`. */
  child(subsystem: string): SubLogger {
    checkSubsystem(subsystem);
    this.#known.add(subsystem);
    const log = (level: RecordLevel) => (msg: string, fields?: Record<string, unknown>) =>
      this.log(subsystem, level, msg, fields);
    return {
      subsystem,
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      enabled: (level) => this.enabled(subsystem, level),
    };
  }

  /** Sets one subsystem's level; `*` sets the default and clears every subsystem's own level. */
  setLevel(subsystem: string, level: LogLevel): void {
    if (!isLogLevel(level)) {
      throw new ConsoleError(
        'CONSOLE_BAD_LOG_LEVEL',
        `unknown log level "${level}"; use one of ${LOG_LEVELS.join(', ')}`,
      );
    }
    if (subsystem === '*') {
      this.#defaultLevel = level;
      this.#levels.clear();
      return;
    }
    checkSubsystem(subsystem);
    this.#known.add(subsystem);
    this.#levels.set(subsystem, level);
  }

  level(subsystem: string): LogLevel {
    return this.#levels.get(subsystem) ?? this.#defaultLevel;
  }

  get defaultLevel(): LogLevel {
    return this.#defaultLevel;
  }

  /** Every subsystem seen so far with its effective level, sorted by name. */
  levels(): { subsystem: string; level: LogLevel; own: boolean }[] {
    return [...this.#known].sort().map((subsystem) => ({
      subsystem,
      level: this.level(subsystem),
      own: this.#levels.has(subsystem),
    }));
  }

  enabled(subsystem: string, level: RecordLevel): boolean {
    return RANK[level] >= RANK[this.level(subsystem)];
  }

  log(subsystem: string, level: RecordLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(subsystem, level)) return;
    const record: LogRecord = { ts: Date.now(), level, subsystem, msg, fields };
    this.emit('record', record);
    const sink = this.#sink;
    if (!sink) return;
    if (sink.stream.writableLength > this.#maxBuffered) {
      this.#dropped++;
      return;
    }
    sink.stream.write(formatRecord(record));
    this.#written++;
  }

  /** The file records go to, if any. */
  get file(): string | undefined {
    return this.#sink?.path;
  }

  get stats(): { written: number; dropped: number } {
    return { written: this.#written, dropped: this.#dropped };
  }

  /**
   * Starts writing records to `path` (appending). Resolves once the file is open, so a bad path
   * is reported to the caller; a file already open is closed first.
   */
  async openFile(path: string): Promise<void> {
    const stream = createWriteStream(path, { flags: 'a', mode: 0o644 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) =>
        reject(
          new ConsoleError('CONSOLE_LOG_FILE', `cannot open log file ${path}: ${err.message}`),
        ),
      );
    });
    await this.closeFile();
    stream.on('error', (err) => {
      // A disk that fills up or a file that vanishes must not take the peer down: stop logging
      // to it and tell whoever listens.
      if (this.#sink?.stream === stream) this.#sink = undefined;
      stream.destroy();
      this.emit(
        'sinkError',
        new ConsoleError('CONSOLE_LOG_FILE', `log file ${path}: ${err.message}`),
      );
    });
    this.#sink = { path, stream };
    this.#dropped = 0;
    this.#written = 0;
  }

  /** Flushes and closes the log file; records logged afterwards go nowhere. */
  async closeFile(): Promise<void> {
    const sink = this.#sink;
    if (!sink) return;
    this.#sink = undefined;
    const { stream } = sink;
    if (this.#dropped > 0) {
      stream.write(
        formatRecord({
          ts: Date.now(),
          level: 'warn',
          subsystem: 'log',
          msg: 'records dropped because the log file could not keep up',
          fields: { dropped: this.#dropped },
        }),
      );
    }
    await new Promise<void>((resolve) => {
      if (stream.destroyed) return resolve();
      stream.end(() => resolve());
      stream.once('error', () => resolve());
    });
  }
}

function checkSubsystem(s: string): void {
  if (typeof s !== 'string' || !SUBSYSTEM.test(s)) {
    throw new ConsoleError(
      'CONSOLE_BAD_SUBSYSTEM',
      `invalid log subsystem "${String(s)}": use letters, digits, "_", "." or "-"`,
    );
  }
}

/** One JSON line; fields that would clash with the fixed keys get a leading underscore. */
export function formatRecord(r: LogRecord): string {
  const obj: Record<string, unknown> = {
    ts: new Date(r.ts).toISOString(),
    level: r.level,
    subsystem: r.subsystem,
    msg: r.msg,
  };
  for (const [k, v] of Object.entries(r.fields ?? {})) {
    obj[RESERVED.has(k) ? `_${k}` : k] = v;
  }
  return `${safeStringify(obj)}\n`;
}

function safeStringify(obj: unknown): string {
  // Objects on the current path only, so a value referenced twice is not taken for a cycle.
  const ancestors: object[] = [];
  return JSON.stringify(obj, function (this: unknown, _key, value: unknown) {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return { error: value.name, message: value.message, ...(code ? { code } : {}) };
    }
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (typeof value === 'object' && value !== null) {
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(value)) return '[circular]';
      ancestors.push(value);
    }
    return value;
  });
}
