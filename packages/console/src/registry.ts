import { ConsoleError, DuplicateCommandError } from './errors.js';
import type { CommandSpec } from './types.js';

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** The commands a console knows, to look up and list (`Console.register` adds them). */
export interface CommandCatalog {
  /** The command registered under `name`, if any. */
  get(name: string): CommandSpec | undefined;
  /** All commands sorted by name. */
  list(): CommandSpec[];
  /** All command names, sorted. */
  names(): string[];
  /** Group name → its commands, groups and commands sorted by name. */
  groups(): Map<string, CommandSpec[]>;
}

/** The set of known commands; each layer of an application registers its own. */
export class CommandRegistry implements CommandCatalog {
  readonly #commands = new Map<string, CommandSpec>();

  /**
   * Adds commands, all or none: throws `DuplicateCommandError` if a name is taken (or given twice)
   * and `ConsoleError` (`CONSOLE_INVALID_COMMAND_SPEC`) for a malformed spec.
   */
  register(spec: CommandSpec | CommandSpec[]): void {
    const specs = Array.isArray(spec) ? spec : [spec];
    // Check the whole batch first so a bad entry leaves the registry unchanged.
    const names = new Set<string>();
    for (const s of specs) {
      checkSpec(s);
      if (this.#commands.has(s.name) || names.has(s.name)) throw new DuplicateCommandError(s.name);
      names.add(s.name);
    }
    for (const s of specs) this.#commands.set(s.name, s);
  }

  unregister(name: string): boolean {
    return this.#commands.delete(name);
  }

  get(name: string): CommandSpec | undefined {
    return this.#commands.get(name);
  }

  list(): CommandSpec[] {
    return [...this.#commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.list().map((c) => c.name);
  }

  groups(): Map<string, CommandSpec[]> {
    const groups = new Map<string, CommandSpec[]>();
    for (const c of this.list()) {
      const g = groups.get(c.group);
      if (g) g.push(c);
      else groups.set(c.group, [c]);
    }
    return new Map([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

function checkSpec(s: CommandSpec): void {
  const bad = (why: string) =>
    new ConsoleError('CONSOLE_INVALID_COMMAND_SPEC', `invalid command /${String(s?.name)}: ${why}`);
  if (typeof s !== 'object' || s === null) throw bad('not an object');
  if (typeof s.name !== 'string' || !NAME.test(s.name)) {
    throw bad('name must start with a letter and hold only letters, digits, "_", "." or "-"');
  }
  if (typeof s.group !== 'string' || s.group.trim() === '' || /\s/.test(s.group)) {
    throw bad('group must be one non-empty word');
  }
  if (typeof s.usage !== 'string') throw bad('usage must be a string');
  if (typeof s.description !== 'string') throw bad('description must be a string');
  if (typeof s.run !== 'function') throw bad('run must be a function');
  if (s.complete !== undefined && typeof s.complete !== 'function') {
    throw bad('complete must be a function');
  }
  for (const k of ['minArgs', 'maxArgs'] as const) {
    const v = s[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw bad(`${k} must be an integer >= 0`);
  }
  if (s.minArgs !== undefined && s.maxArgs !== undefined && s.minArgs > s.maxArgs) {
    throw bad('minArgs is greater than maxArgs');
  }
}

/** The usage line as shown to users: always starts with `/name`. */
export function formatUsage(spec: CommandSpec): string {
  const u = spec.usage.trim().replace(/^\//, '');
  if (u === spec.name || u.startsWith(`${spec.name} `)) return `/${u}`;
  return u ? `/${spec.name} ${u}` : `/${spec.name}`;
}
