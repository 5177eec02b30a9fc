import { EventEmitter } from 'node:events';
import { tokenize } from '@isopeer/console';
import { attachTestClient, type TestClient, type TestClientOptions } from './client.js';
import type { PortCommandSpec, PortLine, PortWriter, TestConsole } from './console-port.js';
import { TestkitError } from './errors.js';

export interface InterpreterOptions
  extends Omit<TestClientOptions, 'serverUrl'>,
    Partial<Pick<TestClientOptions, 'serverUrl'>> {
  /**
   * Runs one script line of this peer (`msg hello`, without a leading `/`) with the program's
   * own command interpreter: resolve when it is done, throw (or reject) to fail it. `signal`
   * aborts at the line's deadline.
   */
  execute(line: string, signal: AbortSignal): unknown;
}

export interface AttachedInterpreter {
  client: TestClient;
  /**
   * Tells the test a line the program shows (its "messages view"): `testfilter` and `testwait`
   * count these. `source` tags it (filters on a source other than messagesView match only it).
   */
  show(text: string, source?: string): void;
  /** Stops the client; resolves once pending reports were sent. */
  close(): Promise<void>;
}

/**
 * Joins a test run from any program with a command interpreter of its own, in a few lines:
 *
 *     const test = attachInterpreter({ peerName, scriptName, execute: (line) => myCommands(line) });
 *     test.show('<bob> hello');   // wherever the program shows a line
 *
 * Script lines of this peer go to `execute`; `testfilter`, `testwait` and the other test commands
 * are answered here. `serverUrl` defaults to env TEST_SIDECAR_SERVER, which `isopeer test` sets.
 */
export function attachInterpreter(opts: InterpreterOptions): AttachedInterpreter {
  const serverUrl = opts.serverUrl ?? process.env.TEST_SIDECAR_SERVER;
  if (!serverUrl) {
    throw new TestkitError(
      'NO_TEST_SERVER',
      'no test server: pass serverUrl or set TEST_SIDECAR_SERVER',
    );
  }
  const port = new InterpreterConsole(opts.execute);
  const client = attachTestClient(port, { ...opts, serverUrl });
  return {
    client,
    show: (text, source) => port.show(text, source),
    close: () => client.close(),
  };
}

/** The TestConsole the test client needs, around a plain `execute(line)` function. */
class InterpreterConsole implements TestConsole {
  private readonly lines = new EventEmitter<{ line: [PortLine] }>();
  private readonly commands = new Map<string, PortCommandSpec>();
  private readonly run: InterpreterOptions['execute'];

  constructor(run: InterpreterOptions['execute']) {
    this.run = run;
  }

  register(specs: PortCommandSpec[]): void {
    for (const s of specs) this.commands.set(s.name, s);
  }

  async execute(
    line: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ ok: boolean; error?: string }> {
    const text = line.replace(/^\//, '');
    const signal = opts.signal ?? new AbortController().signal;
    try {
      const words = tokenize(text).words;
      const spec = this.commands.get(words[0] ?? '');
      if (!spec) {
        await this.run(text, signal);
        return { ok: true };
      }
      const args = words.slice(1);
      if (args.length < (spec.minArgs ?? 0) || args.length > (spec.maxArgs ?? Infinity)) {
        throw new Error(`usage: ${spec.usage}`);
      }
      const ok = await spec.run(args, { out: this.writer(spec.name), signal });
      return ok === false ? { ok: false, error: `${spec.name} failed` } : { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Output of the test commands, tagged with their name so that no filter counts it. */
  private writer(source: string): PortWriter {
    const emit = (kind: string) => (text: string) => this.emit(kind, text, source);
    return {
      text: emit('text'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      message: emit('message'),
    };
  }

  show(text: string, source?: string): void {
    this.emit('message', text, source);
  }

  private emit(kind: string, text: string, source?: string): void {
    this.lines.emit('line', { kind, text, ts: Date.now(), ...(source ? { source } : {}) });
  }

  on(_event: 'line', listener: (line: PortLine) => void): unknown {
    return this.lines.on('line', listener);
  }

  off(_event: 'line', listener: (line: PortLine) => void): unknown {
    return this.lines.off('line', listener);
  }

  write(kind: 'info' | 'warn' | 'error', text: string, source?: string): void {
    this.emit(kind, text, source);
  }
}
