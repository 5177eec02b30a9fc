// The conformance suite against real `isopeer bootstrap-server` processes, one per store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCliServer } from './cli-server.js';
import { runConformanceSuite } from './conformance.js';

runConformanceSuite('memory store (isopeer bootstrap-server)', async () => {
  const s = await startCliServer(['--store', 'memory']);
  return { url: s.url, stop: async () => void (await s.stop()) };
});

runConformanceSuite('file store with admin token (isopeer bootstrap-server)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'isopeer-bootstrap-'));
  const s = await startCliServer([
    '--store',
    `file:${join(dir, 'peers.json')}`,
    '--admin-token',
    'secret-token',
  ]);
  return {
    url: s.url,
    adminToken: 'secret-token',
    stop: async () => {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
