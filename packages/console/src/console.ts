import { EventEmitter } from 'node:events';
import { registerConfigCommands } from './commands/config.js';
import { helpCommands } from './commands/help.js';
import { logCommands } from './commands/log.js';
import { scriptCommands } from './commands/script.js';
import type { ConfigProvider } from './config-provider.js';
import { ConsoleError, ParseError, UsageError } from './errors.js';
import { Logger, type SubLogger } from './logger.js';
import { OutputBuffer } from './output.js';
import { parseCommandLine, quoteWord, rawArguments, tokenize } from './parser.js';
import { type CommandCatalog, CommandRegistry, formatUsage } from './registry.js';
import { didYouMean } from './suggest.js';
import type {
  CommandContext,
  CommandResult,
  CommandSpec,
  LineKind,
  LineOptions,
  LineWriter,
  OutputLine,
  RunReturn,
} from './types.js';

export interface ConsoleOptions {
  /** Logger shared with the application; a new one (default level `info`) otherwise. */
  logger?: Logger;
  /** Input history file the UI uses unless it is given another one. */
  historyFile?: string;
  /** Lines kept in the scrollback (`output`); default 5000. */
  outputLimit?: number;
  /** Log file to open at start (the `--log FILE` option of applications). */
  logFile?: string;
  /** Register the built-in help, script and log commands; default true. */
  builtins?: boolean;
  /** How deeply scripts may run scripts; default 8. */
  maxDepth?: number;
  /**
   * A hint added to the message of an error a command threw (`message: hint`), such as which
   * command to run first. Libraries say what is wrong; the application knows its commands.
   */
  errorHint?: (error: unknown) => string | undefined;
}

export interface ExecuteOptions {
  /** Cancels the command (the UI aborts on Ctrl-C). */
  signal?: AbortSignal;
}

/** Context of a running command, extended with what nested execution needs. */
export interface RunContext extends CommandContext {
  /**
   * Runs another command line as part of this command: its lines become part of this command's
   * result, and it is cancelled with it. Used by scripts and by commands that bundle others.
   */
  run(line: string): Promise<CommandResult>;
  /** Nesting depth: 0 for a line the user typed. */
  depth: number;
}

export type DefaultHandler = (line: string, ctx: CommandContext) => RunReturn;

export interface CompletionResult {
  /** Replacements for `replace` (the text at the end of the line being completed). */
  candidates: string[];
  replace: string;
}

const MAX_CANDIDATES = 200;

/**
 * A command interpreter that lives inside a running peer. It owns the command registry, runs
 * command lines, and turns everything commands say into a stream of typed lines (`line` events and
 * the bounded `output` scrollback). It never writes to a terminal itself: `runInteractive()` in
 * ui.ts renders the stream.
 *
 * Events: `line` (OutputLine), `command` ({ line, result, depth }), `close`.
 */
export class Console extends EventEmitter {
  /** The registered commands (read-only; `register` adds). */
  readonly registry: CommandCatalog;
  readonly #registry = new CommandRegistry();
  readonly logger: Logger;
  readonly historyFile: string | undefined;
  /** Resolves when start-up work (opening `logFile`) is done; never rejects. */
  readonly ready: Promise<void>;
  readonly out: LineWriter;
  readonly #buffer: OutputBuffer;
  readonly #log: SubLogger;
  readonly #closer = new AbortController();
  readonly #running = new Set<Promise<unknown>>();
  readonly #maxDepth: number;
  readonly #errorHint: ((error: unknown) => string | undefined) | undefined;
  #defaultHandler: DefaultHandler | undefined;
  #configured = false;
  #closed = false;

  constructor(opts: ConsoleOptions = {}) {
    super();
    this.registry = this.#registry;
    this.logger = opts.logger ?? new Logger();
    this.historyFile = opts.historyFile;
    this.#buffer = new OutputBuffer(opts.outputLimit ?? 5000);
    this.#maxDepth = opts.maxDepth ?? 8;
    this.#errorHint = opts.errorHint;
    this.#log = this.logger.child('console');
    this.out = this.writer();
    this.logger.on('sinkError', this.#onSinkError);
    if (opts.builtins !== false) {
      this.register([...helpCommands(), ...scriptCommands(), ...logCommands()]);
    }
    this.ready = opts.logFile
      ? this.logger.openFile(opts.logFile).then(
          () => this.write('info', `logging to ${opts.logFile}`, 'log'),
          (err: Error) => this.write('error', err.message, 'log'),
        )
      : Promise.resolve();
  }

  #onSinkError = (err: Error): void => {
    this.write('error', `${err.message}; logging to the file stopped`, 'log');
  };

  register(spec: CommandSpec | CommandSpec[]): void {
    this.#registry.register(spec);
  }

  /** The command registered under `name`, if any. */
  command(name: string): CommandSpec | undefined {
    return this.registry.get(name);
  }

  /** The scrollback: the most recent lines, oldest first (bounded by `outputLimit`). */
  get output(): OutputLine[] {
    return this.#buffer.lines;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Aborted when the console closes; long-running application work can listen to it. */
  get signal(): AbortSignal {
    return this.#closer.signal;
  }

  /**
   * Emits output lines (one per line of `text`) from outside any command, e.g. a chat message
   * that arrived from the network.
   */
  write(kind: LineKind, text: string, source?: string): void {
    this.#emit(kind, text, source, []);
  }

  /** A LineWriter whose lines carry `source`. */
  writer(source?: string): LineWriter {
    return this.#writer(source, []);
  }

  /** Handles lines that are not commands (the chat layer sends them as messages). */
  setDefaultHandler(fn: DefaultHandler | undefined): void {
    this.#defaultHandler = fn;
  }

  /** Registers the configuration provider and the `/showconfig`, `/saveconfig`, `/loadconfig` commands. */
  useConfig<T>(provider: ConfigProvider<T>): void {
    if (this.#configured) {
      throw new ConsoleError(
        'CONSOLE_CONFIG_PROVIDER',
        'a configuration provider is already registered',
      );
    }
    registerConfigCommands(this, provider);
    this.#configured = true;
  }

  /**
   * Runs one line: `/name args...` runs a command, `//text` and any other non-empty line go to
   * the default handler. Never throws for bad input: failures come back as `ok: false` with the
   * message in `error` and as `error` lines.
   */
  execute(line: string, opts: ExecuteOptions = {}): Promise<CommandResult> {
    if (typeof line !== 'string') {
      return Promise.reject(new TypeError(`execute() takes a string, got ${typeof line}`));
    }
    const signal = opts.signal
      ? AbortSignal.any([this.#closer.signal, opts.signal])
      : this.#closer.signal;
    return this.#track(this.#execute(line, [], signal, 0));
  }

  async #track<T>(p: Promise<T>): Promise<T> {
    this.#running.add(p);
    try {
      return await p;
    } finally {
      this.#running.delete(p);
    }
  }

  async #execute(
    line: string,
    parents: OutputLine[][],
    signal: AbortSignal,
    depth: number,
  ): Promise<CommandResult> {
    const lines: OutputLine[] = [];
    const collectors = [lines, ...parents];
    const started = Date.now();
    const result = await this.#dispatch(line, collectors, signal, depth);
    const full: CommandResult = { ...result, lines };
    if (line.trim() !== '') {
      // A failed command is worth a record at the default level, the others only when debugging.
      // That record names the command, not the whole line: arguments may be keys or messages.
      const ms = Date.now() - started;
      if (full.ok) this.#log.debug('command', { line, ok: true, ms, depth });
      else {
        const trimmed = line.trim();
        const command = trimmed.startsWith('/') ? trimmed.split(/\s/, 1)[0] : 'message';
        this.#log.warn('command failed', { command, error: full.error, ms, depth });
      }
      this.emit('command', { line, result: full, depth });
    }
    return full;
  }

  async #dispatch(
    line: string,
    collectors: OutputLine[][],
    signal: AbortSignal,
    depth: number,
  ): Promise<{ ok: boolean; error?: string }> {
    const fail = (message: string, source?: string) => {
      this.#emit('error', message, source, collectors);
      return { ok: false, error: message };
    };
    if (this.#closed) return fail('the console is closed');
    const trimmed = line.trim();
    if (trimmed === '') return { ok: true };
    if (!trimmed.startsWith('/') || trimmed.startsWith('//')) {
      const text = trimmed.startsWith('//') ? line.trimStart().slice(1) : line;
      if (!this.#defaultHandler) {
        return fail(
          `not a command: ${oneLine(trimmed)} (commands start with "/"; /help lists them)`,
        );
      }
      const ctx = this.#context('', '', collectors, signal, depth);
      return this.#invoke(() => this.#defaultHandler!(text, ctx), collectors, fail);
    }
    let parsed: { name: string; args: string[] };
    try {
      parsed = parseCommandLine(trimmed);
    } catch (err) {
      if (err instanceof ParseError) return fail(`cannot parse command: ${err.message}`);
      throw err;
    }
    const spec = this.registry.get(parsed.name);
    if (!spec) {
      const hint = didYouMean(parsed.name, this.registry.names());
      return fail(`unknown command /${oneLine(parsed.name)}${hint} (/help lists all commands)`);
    }
    const { args } = parsed;
    if (
      (spec.minArgs !== undefined && args.length < spec.minArgs) ||
      (spec.maxArgs !== undefined && args.length > spec.maxArgs)
    ) {
      const want =
        spec.minArgs === spec.maxArgs
          ? `${spec.minArgs}`
          : spec.maxArgs === undefined
            ? `at least ${spec.minArgs}`
            : `${spec.minArgs ?? 0} to ${spec.maxArgs}`;
      return fail(
        `/${spec.name} takes ${want} argument(s), got ${args.length}; usage: ${formatUsage(spec)}`,
        spec.name,
      );
    }
    const ctx = this.#context(spec.name, rawArguments(trimmed), collectors, signal, depth);
    return this.#invoke(() => spec.run(args, ctx), collectors, fail, spec);
  }

  async #invoke(
    run: () => RunReturn,
    collectors: OutputLine[][],
    fail: (message: string, source?: string) => { ok: boolean; error: string },
    spec?: CommandSpec,
  ): Promise<{ ok: boolean; error?: string }> {
    const label = spec ? `/${spec.name}` : 'message';
    try {
      const r = await run();
      if (r === false) {
        const said = collectors[0].findLast((l) => l.kind === 'error');
        if (said) return { ok: false, error: said.text };
        // A command that fails quietly still leaves a trace in the output.
        return fail(`${label} failed`, spec?.name);
      }
      return { ok: true };
    } catch (err) {
      if (err instanceof UsageError && spec) {
        return fail(`${err.message}; usage: ${formatUsage(spec)}`, spec.name);
      }
      const e = err as Error & { code?: string };
      if (e?.name === 'AbortError') return fail(`${label}: aborted`, spec?.name);
      const message = String(e?.message ?? err);
      const hint = this.#hint(err);
      return fail(`${label}: ${hint ? `${message}: ${hint}` : message}`, spec?.name);
    }
  }

  #hint(err: unknown): string | undefined {
    try {
      return this.#errorHint?.(err);
    } catch (e) {
      this.#log.warn('error hint failed', { error: e });
      return undefined;
    }
  }

  #context(
    name: string,
    rawArgs: string,
    collectors: OutputLine[][],
    signal: AbortSignal,
    depth: number,
  ): RunContext {
    return {
      console: this,
      out: this.#writer(name || undefined, collectors),
      signal,
      name,
      rawArgs,
      depth,
      run: (line: string) => {
        if (depth + 1 > this.#maxDepth) {
          const message = `commands nested deeper than ${this.#maxDepth} levels (a script running itself?)`;
          this.#emit('error', message, name, collectors);
          return Promise.resolve({ ok: false, lines: [], error: message });
        }
        return this.#execute(line, collectors, signal, depth + 1);
      },
    };
  }

  #writer(source: string | undefined, collectors: OutputLine[][]): LineWriter {
    const w = (kind: LineKind) => (s: string, opts?: LineOptions) =>
      this.#emit(kind, s, source, collectors, opts?.wrapIndent);
    return {
      text: w('text'),
      info: w('info'),
      warn: w('warn'),
      error: w('error'),
      message: w('message'),
    };
  }

  #emit(
    kind: LineKind,
    text: string,
    source: string | undefined,
    collectors: OutputLine[][],
    wrapIndent?: number,
  ): void {
    const ts = Date.now();
    for (const part of String(text).split(/\r?\n/)) {
      const line: OutputLine = source ? { kind, text: part, ts, source } : { kind, text: part, ts };
      if (wrapIndent !== undefined) line.wrapIndent = wrapIndent;
      this.#buffer.push(line);
      for (const c of collectors) c.push(line);
      this.emit('line', line);
    }
  }

  /**
   * Completion for the text before the cursor: command names after `/`, then whatever the
   * command's `complete` offers for the argument being typed.
   */
  complete(lineBeforeCursor: string): CompletionResult {
    const none = { candidates: [], replace: '' };
    if (!lineBeforeCursor.startsWith('/') || lineBeforeCursor.startsWith('//')) return none;
    const body = lineBeforeCursor.slice(1);
    const tokens = tokenize(body, { partial: true });
    const typingName =
      tokens.words.length === 0 || (tokens.words.length === 1 && !tokens.endsWithSpace);
    if (typingName) {
      const partial = tokens.words[0] ?? '';
      const names = this.registry.names().filter((n) => n.startsWith(partial));
      const candidates = names.length === 1 ? [`/${names[0]} `] : names.map((n) => `/${n}`);
      return { candidates, replace: lineBeforeCursor };
    }
    const spec = this.registry.get(tokens.words[0]);
    if (!spec?.complete) return none;
    const argIndex = tokens.endsWithSpace ? tokens.words.length - 1 : tokens.words.length - 2;
    const partial = tokens.endsWithSpace ? '' : tokens.words[tokens.words.length - 1];
    const args = tokens.words.slice(1, argIndex + 1);
    let offered: string[];
    try {
      const ctx = this.#context(spec.name, '', [], this.#closer.signal, 0);
      const r: unknown = spec.complete(argIndex, partial, ctx, args);
      offered = Array.isArray(r) ? r : [];
    } catch (err) {
      this.#log.warn('completion failed', { command: spec.name, error: err });
      return none;
    }
    const matches = [...new Set(offered)].filter(
      (c) => typeof c === 'string' && c.startsWith(partial),
    );
    const quoted = matches.slice(0, MAX_CANDIDATES).sort().map(quoteWord);
    const candidates = quoted.length === 1 ? [`${quoted[0]} `] : quoted;
    return { candidates, replace: body.slice(tokens.lastStart) };
  }

  /**
   * Aborts running commands, waits for them to finish, and closes the log file. Lines written
   * afterwards are still emitted, commands are refused.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closer.abort(new ConsoleError('CONSOLE_CLOSED', 'the console is closed'));
    await Promise.allSettled([...this.#running]);
    await this.ready;
    await this.logger.closeFile();
    this.logger.off('sinkError', this.#onSinkError);
    this.emit('close');
  }
}

/** Keeps a user-typed fragment on one line in messages. */
function oneLine(s: string): string {
  const flat = s.replace(/[\r\n\t]+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}
