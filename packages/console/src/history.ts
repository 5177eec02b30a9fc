import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';

/** Longest entry kept; a pasted novel is not worth recalling. */
const MAX_ENTRY = 4096;

/**
 * The persistent input history: one entry per line, oldest first, at most `limit` entries.
 * Saving is asynchronous and coalesced (a burst of commands costs one write) and replaces the file
 * atomically, so a crash never leaves it half written.
 */
export class HistoryFile {
  readonly path: string;
  readonly limit: number;
  #entries: string[] = [];
  #writing: Promise<void> | undefined;
  #dirty = false;
  #onError: (err: Error) => void;

  constructor(path: string, limit = 1000, onError: (err: Error) => void = () => {}) {
    this.path = path;
    this.limit = limit;
    this.#onError = onError;
  }

  /** Reads the file; a missing file is an empty history, other failures are reported. */
  load(): string[] {
    try {
      this.#entries = readFileSync(this.path, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && l.length <= MAX_ENTRY)
        .slice(-this.limit);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#onError(new Error(`cannot read history ${this.path}: ${(err as Error).message}`));
      }
      this.#entries = [];
    }
    return [...this.#entries];
  }

  /** Oldest first. */
  get entries(): readonly string[] {
    return this.#entries;
  }

  add(entry: string): void {
    const line = entry.trimEnd();
    if (line.trim() === '' || line.length > MAX_ENTRY || /[\r\n]/.test(line)) return;
    if (this.#entries[this.#entries.length - 1] === line) return;
    this.#entries.push(line);
    if (this.#entries.length > this.limit)
      this.#entries.splice(0, this.#entries.length - this.limit);
    this.#dirty = true;
    this.#writing ??= this.#save();
  }

  /** Resolves when everything added so far is on disk. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #save(): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      while (this.#dirty) {
        this.#dirty = false;
        await writeFile(tmp, `${this.#entries.join('\n')}\n`, { mode: 0o600 });
        await rename(tmp, this.path);
      }
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      this.#onError(new Error(`cannot save history ${this.path}: ${(err as Error).message}`));
    } finally {
      this.#writing = undefined;
    }
  }
}
