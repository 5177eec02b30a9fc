// formatDocument against the real thing: Go 1.19's encoding/json (the original was built with
// a Go of that era) marshals the same documents, and the bytes must be identical.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipIfMissing } from '@isopeer/test-support';
import fc from 'fast-check';
import { formatDocument } from '../src/codec.js';
import { docArb } from './arbitraries.js';

const source = fileURLToPath(new URL('../../test/go/marshal.go', import.meta.url));
const goAvailable = spawnSync('go', ['version']).status === 0;

test('formatDocument writes exactly what Go encoding/json MarshalIndent writes', (t) => {
  if (skipIfMissing(t, goAvailable ? null : 'go is not installed (apt-get install golang-go)')) {
    return;
  }
  const docs = fc.sample(docArb, { numRuns: 400, seed: 424242 });
  const scratch = mkdtempSync(join(tmpdir(), 'isopeer-go-json-'));
  try {
    const run = spawnSync('go', ['run', source], {
      input: JSON.stringify(docs),
      encoding: 'utf8',
      env: { ...process.env, GO111MODULE: 'off', GOPATH: scratch, GOFLAGS: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, docs.length);
    docs.forEach((d, i) => {
      const go = Buffer.from(lines[i], 'base64').toString('utf8');
      assert.equal(formatDocument(d), go, `document ${i}: ${JSON.stringify(d)}`);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
