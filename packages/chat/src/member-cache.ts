/**
 * A local file of recently seen members (`name`, memberlist `addr:port`, last seen), so a peer can
 * still find its group when the bootstrap service is down. Written atomically (temp file +
 * rename) and never trusted: a damaged file counts as empty.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseHostPort } from './member-record.js';

export interface CachedMember {
  name: string;
  /** memberlist address `host:port` */
  address: string;
  /** Unix milliseconds */
  lastSeen: number;
}

const MAX_ENTRIES = 32;
const MAX_FILE_BYTES = 256 * 1024;

export class MemberCache {
  private entries = new Map<string, CachedMember>();
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(readonly file: string) {}

  /** Reads the file; returns a problem description instead of throwing when it is unusable. */
  async load(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return `cannot read member cache ${this.file}: ${(e as Error).message}`;
    }
    if (text.length > MAX_FILE_BYTES) return `member cache ${this.file} is too large; ignored`;
    try {
      const doc = JSON.parse(text) as { members?: unknown };
      if (!Array.isArray(doc.members)) throw new Error('no "members" array');
      for (const m of doc.members as Partial<CachedMember>[]) {
        if (
          typeof m?.name === 'string' &&
          typeof m.address === 'string' &&
          parseHostPort(m.address) &&
          typeof m.lastSeen === 'number'
        ) {
          this.entries.set(m.name, { name: m.name, address: m.address, lastSeen: m.lastSeen });
        }
      }
      this.trim();
      return undefined;
    } catch (e) {
      return `member cache ${this.file} is damaged (${(e as Error).message}); ignored`;
    }
  }

  seen(name: string, address: string, now = Date.now()): void {
    this.entries.set(name, { name, address, lastSeen: now });
    this.trim();
    this.dirty = true;
  }

  /** Most recently seen first, without `exceptName`. */
  list(exceptName?: string): CachedMember[] {
    return [...this.entries.values()]
      .filter((m) => m.name !== exceptName)
      .sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** Writes the file if anything changed; serialised so concurrent saves never interleave. */
  save(): Promise<void> {
    if (!this.dirty) return this.writing;
    this.dirty = false;
    const body = `${JSON.stringify({ version: 1, members: this.list() }, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, body);
      await rename(tmp, this.file);
    });
    return this.writing;
  }

  /**
   * Saves within `delayMs`, once for any number of changes meanwhile (members join in bursts);
   * `onError` hears of a failed save.
   */
  saveSoon(delayMs: number, onError: (err: Error) => void): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save().catch(onError);
    }, delayMs);
    this.saveTimer.unref();
  }

  /** Saves now, cancelling a pending `saveSoon`. */
  flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    return this.save();
  }

  private trim(): void {
    if (this.entries.size <= MAX_ENTRIES) return;
    for (const m of this.list().slice(MAX_ENTRIES)) this.entries.delete(m.name);
  }
}
