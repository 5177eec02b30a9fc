/*
 * A simulated file system for crash and fault injection in the file store, modelling what POSIX
 * promises about durability: file data reaches the disk only through fsync of that file, and a
 * directory entry (create, rename, unlink) only through fsync of the directory. A crash loses the
 * rest — how much of it depends on what the kernel happened to write back, so `imageAfterCrash`
 * offers the three outcomes that matter:
 *
 *   'durable'   nothing un-synced survived;
 *   'everything' all of it survived (the kernel wrote everything back just in time);
 *   'metadata'  directory changes survived but un-synced file data did not (ext4 writeback-like).
 *
 * Every call is one step, recorded in `steps`; `onStep` runs before each and may throw to fail
 * that call (fault injection) or call `crash()` to stop the machine right there.
 */
import { basename } from 'node:path';
import type { FileStoreFs, FileStoreHandle } from '../src/stores/file.js';

interface Inode {
  volatile: string;
  durable: string;
}

export type CrashOutcome = 'durable' | 'everything' | 'metadata';
export const CRASH_OUTCOMES: readonly CrashOutcome[] = ['durable', 'everything', 'metadata'];

/** Thrown by every call once the simulated machine has crashed. */
export class CrashedError extends Error {
  readonly code = 'ECRASHED';
  constructor() {
    super('the machine crashed');
  }
}

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), {
    code: 'ENOENT',
  });
}

export class SimFs implements FileStoreFs {
  private volatileDir = new Map<string, Inode>();
  private durableDir = new Map<string, Inode>();
  private crashed = false;
  /** Every call so far, e.g. `open .peers.json.tmp w`, `sync dir`. */
  readonly steps: string[] = [];
  /** Runs before each call with the step's name; may throw to make that call fail. */
  onStep: ((step: string) => void) | undefined;

  constructor(private readonly dirPath: string) {}

  /** Stops the machine: every later call fails; the disk is what imageAfterCrash says. */
  crash(): void {
    this.crashed = true;
  }

  /** The file system as a rebooted machine finds it. */
  imageAfterCrash(outcome: CrashOutcome): SimFs {
    const image = new SimFs(this.dirPath);
    const dir = outcome === 'durable' ? this.durableDir : this.volatileDir;
    for (const [name, inode] of dir) {
      const text = outcome === 'everything' ? inode.volatile : inode.durable;
      const copy = { volatile: text, durable: text };
      image.volatileDir.set(name, copy);
      image.durableDir.set(name, copy);
    }
    return image;
  }

  /** A file's content as a reader sees it now. */
  contentOf(path: string): string | undefined {
    return this.volatileDir.get(basename(path))?.volatile;
  }

  private step(name: string): void {
    if (this.crashed) throw new CrashedError();
    this.steps.push(name);
    this.onStep?.(name);
    if (this.crashed) throw new CrashedError();
  }

  private isDir(path: string): boolean {
    return path === this.dirPath;
  }

  async readFile(path: string): Promise<string> {
    this.step(`read ${basename(path)}`);
    const inode = this.volatileDir.get(basename(path));
    if (inode === undefined) throw enoent(path);
    return inode.volatile;
  }

  async open(path: string, flags: 'r' | 'w'): Promise<FileStoreHandle> {
    const name = this.isDir(path) ? 'dir' : basename(path);
    this.step(`open ${name} ${flags}`);
    if (this.isDir(path)) {
      return {
        writeFile: () => Promise.reject(new Error('EISDIR')),
        sync: async () => {
          this.step('sync dir');
          this.durableDir = new Map(this.volatileDir);
        },
        close: async () => {},
      };
    }
    let inode = this.volatileDir.get(name);
    if (inode === undefined) {
      if (flags === 'r') throw enoent(path);
      inode = { volatile: '', durable: '' };
      this.volatileDir.set(name, inode);
    } else if (flags === 'w') inode.volatile = ''; // O_TRUNC
    const file = inode;
    return {
      writeFile: async (data) => {
        this.step(`write ${name}`);
        file.volatile += data;
      },
      sync: async () => {
        this.step(`sync ${name}`);
        file.durable = file.volatile;
      },
      close: async () => {
        this.step(`close ${name}`);
      },
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.step(`rename ${basename(from)} ${basename(to)}`);
    const inode = this.volatileDir.get(basename(from));
    if (inode === undefined) throw enoent(from);
    this.volatileDir.delete(basename(from));
    this.volatileDir.set(basename(to), inode);
  }

  async unlink(path: string): Promise<void> {
    this.step(`unlink ${basename(path)}`);
    if (!this.volatileDir.delete(basename(path))) throw enoent(path);
  }
}
