// Durability of the file store, deterministically: a failure or a crash injected at each step of
// a write (open temp, write, fsync, close, rename, directory fsync) leaves the old or the new
// document, never a torn one; an acknowledged write survives every crash outcome; and the sync
// calls happen in order, on the simulated file system and on the real one.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { formatDocument } from '../src/codec.js';
import { applyJoin, initialData } from '../src/semantics.js';
import { StoreUnavailableError } from '../src/store.js';
import { createFileStore, type FileStoreFs } from '../src/stores/file.js';
import { peer } from './conformance.js';
import { CRASH_OUTCOMES, SimFs } from './sim-fs.js';

const DIR = '/sim';
const PATH = `${DIR}/peers.json`;
const A = peer('a', '100', '7001');
const B = peer('b', '200', '7002');
const C = peer('c', '300', '7003');
const OLD = formatDocument(applyJoin(initialData(), A));
const NEW = formatDocument(applyJoin(applyJoin(initialData(), A), B));
const WRITE_STEPS = [
  'open .peers.json.tmp w',
  'write .peers.json.tmp',
  'sync .peers.json.tmp',
  'close .peers.json.tmp',
  'rename .peers.json.tmp peers.json',
  'sync dir',
];

/** A store on `fs` holding the old state (peer a). */
async function storeWithOld(fs: SimFs) {
  const store = await createFileStore(PATH, { fs });
  await store.join(A, 0);
  return store;
}

/** The document a server restarted on `fs` serves. */
async function reopened(fs: SimFs): Promise<string> {
  const store = await createFileStore(PATH, { fs });
  try {
    return formatDocument(await store.list(0));
  } finally {
    await store.close();
  }
}

const shown = (doc: string) => (doc === OLD ? 'old' : doc === NEW ? 'new' : `torn/other:\n${doc}`);

test('a write: temp file written, fsynced, closed, renamed, directory fsynced, then acknowledged', async () => {
  const fs = new SimFs(DIR);
  const store = await storeWithOld(fs);
  const from = fs.steps.length;
  await store.join(B, 0).then(() => fs.steps.push('acknowledged'));
  assert.deepEqual(fs.steps.slice(from), [...WRITE_STEPS, 'acknowledged']);
  await store.close();
});

test('a crash before each step of a write, and after its acknowledgement, leaves old or new', async () => {
  for (let k = 0; k <= WRITE_STEPS.length; k++) {
    const fs = new SimFs(DIR);
    const store = await storeWithOld(fs);
    let step = 0;
    fs.onStep = () => {
      if (step++ === k) fs.crash();
    };
    const acknowledged = await store.join(B, 0).then(
      () => true,
      () => false,
    );
    // k === WRITE_STEPS.length: no step was cut, the write was acknowledged; crash right after.
    assert.equal(
      acknowledged,
      k === WRITE_STEPS.length,
      `acknowledged with a crash before step ${k}`,
    );
    fs.crash();
    for (const outcome of CRASH_OUTCOMES) {
      const doc = await reopened(fs.imageAfterCrash(outcome));
      const where = `crash ${k < WRITE_STEPS.length ? `before "${WRITE_STEPS[k]}"` : 'after the acknowledgement'}, outcome ${outcome}`;
      if (acknowledged) assert.equal(shown(doc), 'new', `${where}: an acknowledged write was lost`);
      else assert.ok(doc === OLD || doc === NEW, `${where}: ${shown(doc)}`);
    }
  }
});

test('a failure at each step of a write: refused, memory unchanged, disk old or new, store still works', async () => {
  for (let k = 0; k < WRITE_STEPS.length; k++) {
    const fs = new SimFs(DIR);
    const store = await storeWithOld(fs);
    let step = 0;
    fs.onStep = (name) => {
      if (step++ === k) throw Object.assign(new Error(`EIO at ${name}`), { code: 'EIO' });
    };
    const err = await store.join(B, 0).catch((e: unknown) => e);
    assert.ok(
      err instanceof StoreUnavailableError,
      `failure at "${WRITE_STEPS[k]}": ${String(err)}`,
    );
    assert.match(err.message, /^cannot write \/sim\/peers\.json: EIO at /);
    assert.equal(formatDocument(await store.list(0)), OLD, 'answers the last committed state');
    for (const outcome of CRASH_OUTCOMES) {
      const doc = await reopened(fs.imageAfterCrash(outcome));
      assert.ok(
        doc === OLD || doc === NEW,
        `failure at "${WRITE_STEPS[k]}", ${outcome}: ${shown(doc)}`,
      );
    }
    // The disk recovered: the next write commits on top of the committed state, without b.
    const next = await store.join(C, 0);
    assert.deepEqual(Object.keys(next.Peers).sort(), ['a', 'c']);
    assert.equal(
      await reopened(fs.imageAfterCrash('durable')),
      formatDocument(next),
      'the next write is durable',
    );
    await store.close();
  }
});

test('on the real file system the store makes the same calls in the same order', async () => {
  const dir = await nodeFs.mkdtemp(join(tmpdir(), 'isopeer-durable-'));
  const calls: string[] = [];
  const name = (p: string) => (p === dir ? 'dir' : basename(p));
  // A spy around node:fs/promises: the production calls, recorded.
  const spy: FileStoreFs = {
    readFile: (p, enc) => nodeFs.readFile(p, enc),
    rename: async (from, to) => {
      calls.push(`rename ${name(from)} ${name(to)}`);
      await nodeFs.rename(from, to);
    },
    unlink: (p) => nodeFs.unlink(p),
    open: async (p, flags, mode) => {
      const fh = await nodeFs.open(p, flags, mode);
      calls.push(`open ${name(p)} ${flags}`);
      return {
        writeFile: async (data) => {
          calls.push(`write ${name(p)}`);
          await fh.writeFile(data);
        },
        sync: async () => {
          calls.push(p === dir ? 'sync dir' : `sync ${name(p)}`);
          await fh.sync();
        },
        close: async () => {
          if (p !== dir) calls.push(`close ${name(p)}`);
          await fh.close();
        },
      };
    },
  };
  try {
    const store = await createFileStore(join(dir, 'peers.json'), { fs: spy });
    await store.join(A, 0);
    const from = calls.length;
    await store.join(B, 0);
    assert.deepEqual(calls.slice(from), WRITE_STEPS);
    await store.close();
    assert.equal(await nodeFs.readFile(join(dir, 'peers.json'), 'utf8'), `${NEW}\n`);
  } finally {
    await nodeFs.rm(dir, { recursive: true, force: true });
  }
});
