import * as readline from 'node:readline';
import { PassThrough } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Console } from './console.js';
import { HistoryFile } from './history.js';
import type { LineKind, OutputLine } from './types.js';

/**
 * The terminal front end, and the only module that writes to a terminal.
 *
 * On a TTY the input line stays at the bottom: output lines are written above it by erasing the
 * input line, writing the output, and redrawing the prompt with the text typed so far and the
 * cursor where it was, so nothing arriving from the network can garble what the user is typing.
 * Output goes to the normal screen (no alternate screen), so the terminal's scrollback keeps it.
 * Without a TTY the console runs in line mode: commands from the input stream one per line,
 * output lines as plain text, no escape codes.
 */

export interface InteractiveOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Prompt before the input line on a TTY; default `> `. */
  prompt?: string;
  /** Persistent history; default the console's `historyFile`. */
  historyFile?: string;
  /** Entries kept in the history file; default 1000. */
  historySize?: number;
  /** Colours on a TTY; default on unless NO_COLOR is set. */
  colors?: boolean;
  /** Force TTY (true) or line mode (false) instead of asking the output stream. */
  terminal?: boolean;
  /** Ends the session: the running command is aborted and queued lines are dropped. */
  signal?: AbortSignal;
  /**
   * Asked to end the session: the input ended (Ctrl-D on an empty line, end of a pipe, once the
   * lines before it ran) or Ctrl-C was pressed twice on an empty line. Without it the session
   * ends then. With it the session goes on showing output until `signal` aborts, so the owner
   * can leave properly first; every further Ctrl-C calls it again (the owner may stop waiting).
   */
  onExitRequest?: () => void;
}

const SGR = {
  reset: '\x1b[0m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
  dim: '\x1b[2m',
};

/** Status-line prefixes of the chat protocol and their colours. */
const STATUS_COLORS: [string, string][] = [
  ['<joined>', SGR.green],
  ['<left>', SGR.magenta],
  ['<info>', SGR.cyan],
  ['<warn>', SGR.yellow],
  ['<error>', SGR.red],
];

const KIND_COLORS: Record<LineKind, string> = {
  text: '',
  message: '',
  info: SGR.cyan,
  warn: SGR.yellow,
  error: SGR.red,
};

/**
 * Control characters from the network (or a program run by /shell) would move the cursor or
 * change colours; they are shown as `?` instead. Tabs become spaces.
 */
export function sanitize(text: string): string {
  return text.replace(/\t/g, '    ').replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

/** The line as shown on a colour terminal. */
export function colorize(line: OutputLine): string {
  const text = sanitize(line.text);
  const status = STATUS_COLORS.find(([prefix]) => text.startsWith(prefix));
  if (status) return `${status[1]}${status[0]}${SGR.reset}${text.slice(status[0].length)}`;
  const color = KIND_COLORS[line.kind];
  return color ? `${color}${text}${SGR.reset}` : text;
}

/**
 * Runs the console on a terminal or over pipes until the input ends, the console closes or
 * `signal` aborts. Lines are executed one after another, in the order they were entered.
 */
export async function runInteractive(
  console: Console,
  opts: InteractiveOptions = {},
): Promise<void> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const tty =
    opts.terminal ??
    Boolean((output as { isTTY?: boolean }).isTTY && (input as { isTTY?: boolean }).isTTY);
  const session = tty
    ? new TtySession(console, input, output, opts)
    : new LineSession(console, input, output, opts.onExitRequest);
  return session.run(opts.signal);
}

const guardedOutputs = new WeakSet<NodeJS.WritableStream>();
const brokenOutputs = new WeakSet<NodeJS.WritableStream>();

/**
 * A closed pipe (the reader went away) must not crash the peer: output to it just stops. The
 * listener stays after the session, because the error for its last writes may arrive later.
 */
function guardOutput(output: NodeJS.WritableStream): void {
  if (guardedOutputs.has(output)) return;
  guardedOutputs.add(output);
  output.on('error', () => brokenOutputs.add(output));
}

/** What both modes share: the queue of entered lines and the run/stop life cycle. */
abstract class Session {
  protected readonly queue: string[] = [];
  protected current: { line: string; abort: AbortController } | undefined;
  protected ended = false;
  #pumping = false;
  #finish: (() => void) | undefined;
  #inputDone = false;
  protected exitRequested = false;

  constructor(
    protected readonly console: Console,
    protected readonly output: NodeJS.WritableStream,
    protected readonly onExitRequest: (() => void) | undefined,
  ) {
    guardOutput(output);
  }

  protected write(s: string): void {
    if (!brokenOutputs.has(this.output)) this.output.write(s);
  }

  protected abstract render(line: OutputLine): void;
  protected abstract start(): void;
  protected abstract stop(): Promise<void> | void;

  #onLine = (line: OutputLine): void => this.render(line);
  #onClose = (): void => this.end();
  #signal: AbortSignal | undefined;
  /** The owner stopping the session: unlike the end of input, queued lines are dropped. */
  #onAbort = (): void => {
    this.queue.length = 0;
    this.current?.abort.abort();
    this.end();
  };

  run(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#finish = resolve;
      this.#signal = signal;
      this.console.on('line', this.#onLine);
      this.console.on('close', this.#onClose);
      signal?.addEventListener('abort', this.#onAbort, { once: true });
      if (this.console.closed || signal?.aborted) {
        this.end();
        return;
      }
      this.start();
    });
  }

  protected enter(line: string): void {
    this.queue.push(line);
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    while (this.queue.length > 0 && !this.console.closed) {
      const line = this.queue.shift()!;
      const abort = new AbortController();
      this.current = { line, abort };
      await this.console.execute(line, { signal: abort.signal });
      this.current = undefined;
    }
    this.#pumping = false;
    this.#maybeFinish();
    this.#maybeRequestExit();
  }

  /**
   * The input ended. Without an exit-request handler the session ends (once queued lines ran);
   * with one, the handler is asked once the queued lines ran, and output goes on being shown.
   */
  protected inputEnded(): void {
    if (!this.onExitRequest) {
      this.end();
      return;
    }
    this.#inputDone = true;
    this.#maybeRequestExit();
  }

  #maybeRequestExit(): void {
    if (this.#inputDone && !this.#pumping && !this.exitRequested && !this.ended) {
      this.requestExit();
    }
  }

  /** Asks the owner to end the session (see `onExitRequest`). */
  protected requestExit(): void {
    this.exitRequested = true;
    this.onExitRequest?.();
  }

  /** Input ended (or the console closed): finish queued lines, then resolve. */
  protected end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.console.closed) this.queue.length = 0;
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (!this.ended || this.#pumping || !this.#finish) return;
    const finish = this.#finish;
    this.#finish = undefined;
    this.console.off('line', this.#onLine);
    this.console.off('close', this.#onClose);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    void Promise.resolve(this.stop()).then(finish);
  }
}

/** No TTY: one command per input line, plain output lines. */
class LineSession extends Session {
  #rl: readline.Interface | undefined;

  constructor(
    console: Console,
    private readonly input: NodeJS.ReadableStream,
    output: NodeJS.WritableStream,
    onExitRequest: (() => void) | undefined,
  ) {
    super(console, output, onExitRequest);
  }

  protected render(line: OutputLine): void {
    this.write(`${sanitize(line.text)}\n`);
  }

  protected start(): void {
    const rl = readline.createInterface({
      input: this.input,
      terminal: false,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    this.#rl = rl;
    rl.on('line', (l) => this.enter(l));
    rl.on('close', () => this.inputEnded());
  }

  protected stop(): void {
    this.#rl?.close();
  }
}

/**
 * Node's readline mishandles several keys arriving in one read (a paste, or fast typing over a
 * slow link): it appends them at the end of the line wherever the cursor is, loses track of the
 * rows a wrapped line occupies, and takes tabs literally. Handing it one character per chunk sends
 * every key through the normal editing path. Escape sequences split this way are still decoded,
 * because readline's decoder keeps its state across chunks.
 */
function oneKeyPerChunk(
  input: NodeJS.ReadableStream,
  intercept: (ch: string) => boolean,
): { keys: PassThrough; detach(): void } {
  const keys = new PassThrough({ objectMode: true });
  const decoder = new StringDecoder('utf8');
  const onData = (chunk: Buffer | string) => {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (const ch of text) if (!intercept(ch)) keys.write(Buffer.from(ch));
  };
  const onEnd = () => keys.end();
  input.on('data', onData);
  input.once('end', onEnd);
  input.resume();
  return {
    keys,
    detach: () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
    },
  };
}

type RawInput = NodeJS.ReadableStream & {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
};

/** A TTY: fixed input line at the bottom, history, completion, colours. */
class TtySession extends Session {
  #rl: readline.Interface | undefined;
  #history: HistoryFile | undefined;
  #pending: string[] = [];
  /** The last output lines drawn, for drawing the screen again after a resize. */
  readonly #shown: string[] = [];
  #flushScheduled = false;
  #lastInterrupt = 0;
  #detachKeys: (() => void) | undefined;
  #wasRaw = false;
  readonly #colors: boolean;

  constructor(
    console: Console,
    private readonly input: NodeJS.ReadableStream,
    output: NodeJS.WritableStream,
    private readonly opts: InteractiveOptions,
  ) {
    super(console, output, opts.onExitRequest);
    this.#colors = opts.colors ?? !process.env.NO_COLOR;
  }

  get #columns(): number {
    return (this.output as { columns?: number }).columns || 80;
  }

  protected render(line: OutputLine): void {
    // A line that may be wrapped (help text) is broken between words at the current width; the
    // terminal would break it anywhere, in the middle of a word.
    const rows =
      line.wrapIndent === undefined
        ? [line]
        : wordWrap(sanitize(line.text), this.#columns, line.wrapIndent).map((text) => ({
            ...line,
            text,
          }));
    for (const row of rows) this.#pending.push(this.#colors ? colorize(row) : sanitize(row.text));
    // Lines arriving in one burst are drawn with one redraw of the input line, not one each.
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const lines = this.#pending;
    this.#pending = [];
    if (lines.length === 0) return;
    this.#shown.push(...lines);
    if (this.#shown.length > REDRAW_LINES) this.#shown.splice(0, this.#shown.length - REDRAW_LINES);
    const rl = this.#rl;
    if (!rl) {
      this.write(`${lines.join('\n')}\n`);
      return;
    }
    // Erase the input line (it may wrap over several rows), write the output where it was, and
    // draw the prompt and the typed text again below it.
    this.#eraseInput(rl);
    this.write(`${lines.join('\n')}\n`);
    // readline remembers on which row of the input it left the cursor and would move up that
    // many rows when redrawing; we already moved to the first row, so there is nothing to climb.
    (rl as unknown as { prevRows: number }).prevRows = 0;
    if (!this.ended) rl.prompt(true);
  }

  /** Clears the rows of the input line and leaves the cursor at the start of its first row. */
  #eraseInput(rl: readline.Interface): void {
    const out = this.output;
    readline.moveCursor(out, 0, -rl.getCursorPos().rows);
    readline.cursorTo(out, 0);
    readline.clearScreenDown(out);
  }

  /**
   * A terminal that changed its width re-wraps what it shows (tmux, VTE, iTerm, kitty and Windows
   * Terminal reflow soft-wrapped rows) and may push rows into its scrollback to keep the cursor
   * in place, so the rows the input line occupies, and where it starts, can no longer be
   * worked out: readline's redraw, which climbs the rows it counted at the old width, erased
   * lines above the input after widening and left stale prompts after narrowing. Instead the
   * screen is drawn again from what this session showed: the last output lines that fit, then
   * the input line.
   */
  #onResize = (): void => {
    const rl = this.#rl;
    const { columns, rows } = this.output as { columns?: number; rows?: number };
    if (!rl || !columns || !rows) return;
    const inputRows = Math.floor(visibleLength(rl.getPrompt() + rl.line) / columns) + 1;
    let room = Math.max(0, rows - inputRows);
    let first = this.#shown.length;
    while (first > 0) {
      const need = Math.max(1, Math.ceil(visibleLength(this.#shown[first - 1]!) / columns));
      if (need > room) break;
      room -= need;
      first--;
    }
    const lines = this.#shown.slice(first);
    this.write(`\x1b[H\x1b[2J${lines.map((l) => `${l}\n`).join('')}`);
    (rl as unknown as { prevRows: number }).prevRows = 0;
    rl.prompt(true);
  };

  /** Ctrl-D on an empty line asks to leave instead of letting readline close the input. */
  #interceptKey = (ch: string): boolean => {
    if (ch !== '\x04' || !this.onExitRequest || !this.#rl || this.#rl.line.length > 0) {
      return false;
    }
    if (!this.exitRequested) this.requestExit();
    return true;
  };

  protected start(): void {
    const historyPath = this.opts.historyFile ?? this.console.historyFile;
    const limit = this.opts.historySize ?? 1000;
    let past: string[] = [];
    if (historyPath) {
      this.#history = new HistoryFile(historyPath, limit, (err) =>
        this.console.write('warn', err.message, 'ui'),
      );
      past = this.#history.load();
    }
    // Raw mode is switched on the real terminal: readline only sees the key stream.
    const raw = this.input as RawInput;
    this.#wasRaw = raw.isRaw === true;
    raw.setRawMode?.(true);
    const resizeListenersBefore = (this.output as NodeJS.EventEmitter).listeners('resize');
    const { keys, detach } = oneKeyPerChunk(this.input, this.#interceptKey);
    this.#detachKeys = detach;
    const rl = readline.createInterface({
      input: keys,
      output: this.output,
      terminal: true,
      prompt: this.opts.prompt ?? '> ',
      history: past.reverse(),
      historySize: limit,
      removeHistoryDuplicates: true,
      completer: (line: string): [string[], string] => {
        const { candidates, replace } = this.console.complete(line);
        return [candidates, replace];
      },
    });
    this.#rl = rl;
    rl.on('line', (l) => {
      this.#history?.add(l);
      this.enter(l);
      // Typing ahead is allowed: the next command can be typed while this one runs.
      rl.prompt();
    });
    rl.on('SIGINT', () => this.#interrupt());
    rl.on('close', () => {
      // The input ended (Ctrl-D, or the terminal hung up): the prompt goes, and none can be
      // drawn any more; output may still be shown while the owner finishes (onExitRequest).
      if (this.#rl === rl) {
        this.#eraseInput(rl);
        this.#rl = undefined;
      }
      this.inputEnded();
    });
    // readline's own redraw on resize is replaced (see #onResize); closing it removes it anyway.
    const out = this.output as NodeJS.EventEmitter;
    for (const l of out.listeners('resize')) {
      if (!resizeListenersBefore.includes(l)) out.off('resize', l as () => void);
    }
    out.on('resize', this.#onResize);
    rl.prompt();
  }

  /**
   * Ctrl-C aborts the running command; otherwise it clears the typed text; on an empty line,
   * pressing it twice within two seconds ends the session (or asks the owner to). Once the
   * owner was asked, every Ctrl-C asks again.
   */
  #interrupt(): void {
    const rl = this.#rl!;
    if (this.exitRequested) {
      this.requestExit();
      return;
    }
    if (this.current) {
      this.console.write('warn', `^C: aborting ${this.current.line.trim()}`, 'ui');
      this.current.abort.abort();
      this.queue.length = 0;
      return;
    }
    if (rl.line.length > 0) {
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      return;
    }
    const now = Date.now();
    if (now - this.#lastInterrupt < 2000) {
      if (this.onExitRequest) this.requestExit();
      else rl.close();
      return;
    }
    this.#lastInterrupt = now;
    this.console.write('info', 'press Ctrl-C again (or Ctrl-D) to leave', 'ui');
  }

  protected async stop(): Promise<void> {
    this.#flush();
    const rl = this.#rl;
    this.#rl = undefined;
    (this.output as NodeJS.EventEmitter).off('resize', this.#onResize);
    // The prompt goes: left on the screen it looks like the program still waits for input.
    if (rl) this.#eraseInput(rl);
    rl?.close();
    this.#detachKeys?.();
    (this.input as RawInput).setRawMode?.(this.#wasRaw);
    await this.#history?.flush();
  }
}

/** Output lines kept for drawing the screen again after a resize (more than any screen holds). */
const REDRAW_LINES = 500;

/** Columns a rendered line takes: without its colour codes. */
function visibleLength(rendered: string): number {
  return rendered.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * Breaks `text` into rows of at most `width` columns between words; rows after the first are
 * indented by `indent` spaces. A word longer than a row is cut.
 */
export function wordWrap(text: string, width: number, indent = 0): string[] {
  if (text.length <= width) return [text];
  const pad = ' '.repeat(Math.min(indent, Math.floor(width / 2)));
  const rows: string[] = [];
  let row = '';
  for (const token of text.match(/\s+|\S+/g) ?? []) {
    if (/^\s/.test(token)) {
      // Spaces at a break are dropped, not carried to the start of the next row.
      if (rows.length > 0 && row === pad) continue;
      if (row.length + token.length >= width) {
        rows.push(row);
        row = pad;
      } else row += token;
      continue;
    }
    if (row.length + token.length > width && row.trim() !== '') {
      rows.push(row.trimEnd());
      row = pad;
    }
    let rest = token;
    while (row.length + rest.length > width) {
      const take = width - row.length;
      rows.push(row + rest.slice(0, take));
      rest = rest.slice(take);
      row = pad;
    }
    row += rest;
  }
  if (row.trim() !== '') rows.push(row.trimEnd());
  return rows;
}
