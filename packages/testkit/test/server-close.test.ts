// Closing the test server must leave its directory removable: a run-file write that is under way
// finishes before close() resolves, and a /preparesummary that comes later writes nothing.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConflictError } from '../src/errors.js';
import { createTestServer } from '../src/server.js';

test('close() waits for run files being written; none are written after it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'testkit-close-'));
  try {
    await writeFile(join(dir, 'duo.cmd'), 'alice init\nbob init\n');
    const server = await createTestServer({ dir, port: 0 });
    const init = await fetch(`${server.url}/init`, { method: 'POST', body: 'duo' });
    const { id } = (await init.json()) as { id: string };
    // Several summaries requested at once, as peers do when a run ends, then close at once.
    const pending = ['alice', 'bob', 'alice', 'bob'].map((p) =>
      server.coordinator.prepareSummary(p).then(
        () => 'written',
        (err: Error) => err.message,
      ),
    );
    await server.close();
    // Every write requested before close() has finished: the directory is complete and stays so.
    const files = (await readdir(join(dir, id))).sort();
    assert.deepEqual(files, [
      'testEventFilters.json',
      'testRun.json',
      'testSummary.json',
      'timeline.json',
    ]);
    assert.deepEqual(await Promise.all(pending), ['written', 'written', 'written', 'written']);
    await rm(join(dir, id), { recursive: true });
    await assert.rejects(server.coordinator.prepareSummary('alice'), ConflictError);
    assert.deepEqual(await readdir(dir), ['duo.cmd']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
