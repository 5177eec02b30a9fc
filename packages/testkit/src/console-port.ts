// The few parts of @isopeer/console's Console the test client uses, written as structural types:
// the real Console satisfies them, and the testkit keeps no build-time hold on console internals.

export interface PortLine {
  kind: string;
  text: string;
  ts: number;
  /** Producer of the line: a command name, or a subsystem such as `chat`. */
  source?: string;
}

export interface PortWriter {
  text(s: string): void;
  info(s: string): void;
  warn(s: string): void;
  error(s: string): void;
  message(s: string): void;
}

export interface PortContext {
  out: PortWriter;
  signal: AbortSignal;
}

export interface PortCommandSpec {
  name: string;
  group: string;
  usage: string;
  description: string;
  // biome-ignore lint/suspicious/noConfusingVoidType: the console's CommandSpec.run, as it is declared
  run(args: string[], ctx: PortContext): Promise<void | boolean> | void | boolean;
  minArgs?: number;
  maxArgs?: number;
}

export interface TestConsole {
  register(spec: PortCommandSpec[]): void;
  execute(line: string, opts?: { signal?: AbortSignal }): Promise<{ ok: boolean; error?: string }>;
  on(event: 'line', listener: (line: PortLine) => void): unknown;
  off(event: 'line', listener: (line: PortLine) => void): unknown;
  /** Writes a line outside any command (used for the client's own status lines). */
  write(kind: 'info' | 'warn' | 'error', text: string, source?: string): void;
}
