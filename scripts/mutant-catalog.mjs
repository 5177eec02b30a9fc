// The mutants `scripts/mutants.mjs` applies: small, realistic bugs, each with the test files
// that must catch it. An edit is a search/replace on the file's current text; the search must
// match exactly once, so a mutant whose code has moved is reported as stale, never as caught.
// Re-check the search texts whenever the code they name changes.
//
// name:  short id (`--only` selects by it)
// file:  the source file mutated, relative to the repository root
// edits: [{ search, replace }], applied in order
// tests: path fragments for scripts/run-tests.mjs (the compiled test files that must fail)
// why:   the claim the mutant breaks

export const MUTANTS = [
  // ---- bootstrap: the file store's crash safety (issue #18) ----
  // Caught by the deterministic durability tests (a simulated disk that crashes or fails at each
  // step of a write, and the order of the calls on the real file system).
  {
    name: 'file-store-no-file-fsync',
    file: 'packages/bootstrap/src/stores/file.ts',
    edits: [{ search: '      await fh.sync();\n', replace: '' }],
    tests: ['bootstrap/dist/test/file-store'],
    why: 'the new document is flushed to disk before it replaces the old one',
  },
  {
    name: 'file-store-no-dir-fsync',
    file: 'packages/bootstrap/src/stores/file.ts',
    edits: [{ search: '      await this.dir.sync();\n', replace: '' }],
    tests: ['bootstrap/dist/test/file-store'],
    why: 'the rename is flushed (directory fsync) before a write is reported done',
  },
  {
    name: 'file-store-write-in-place',
    file: 'packages/bootstrap/src/stores/file.ts',
    edits: [
      {
        search: "fh = await this.fs.open(this.tmpPath, 'w', 0o600);",
        replace: "fh = await this.fs.open(this.path, 'w', 0o600);",
      },
      { search: '      await this.fs.rename(this.tmpPath, this.path);\n', replace: '' },
    ],
    tests: ['bootstrap/dist/test/file-store'],
    why: 'a crash mid-write leaves the old or the new document, never a torn one (temp + rename)',
  },

  // ---- memberlist: msgpack compatibility with go-msgpack (issue #18) ----
  {
    name: 'msgpack-negative-fixint-string',
    file: 'packages/memberlist/src/codec/msgpack.ts',
    edits: [
      {
        search:
          '    else if (b >= 0xe0) len = b ^ 0xa0;\n    else if (b === 0xd9) len = this.u8(field);\n',
        replace: '    else if (b === 0xd9) len = this.u8(field);\n',
      },
    ],
    tests: ['memberlist/dist/test/codec-'],
    why: 'e0-ff where a string is expected is a 64-95-byte string header, as go-msgpack reads it',
  },
  {
    name: 'msgpack-negative-fixint-map-key',
    file: 'packages/memberlist/src/codec/msgpack.ts',
    edits: [
      {
        search:
          "    else if (b >= 0xe0) len = b ^ 0xa0;\n    else if (b === 0xd9) len = this.u8('map key length');\n",
        replace: "    else if (b === 0xd9) len = this.u8('map key length');\n",
      },
    ],
    tests: ['memberlist/dist/test/codec-'],
    why: 'e0-ff as a map key is a 64-95-byte key (skipped as unknown), as go-msgpack reads it',
  },
  {
    name: 'msgpack-fixstr-bound',
    file: 'packages/memberlist/src/codec/msgpack.ts',
    edits: [{ search: '    if (len < 32) {\n', replace: '    if (len <= 32) {\n' }],
    tests: ['memberlist/dist/test/codec-'],
    why: 'a 32-byte string is written as str16 (da 00 20), not as a fixstr',
  },

  // ---- chat: bootstrap duties (issue #18) ----
  // Caught by the duty unit tests (real memberlist nodes on the in-memory network, a counting
  // bootstrap client); the end-to-end duty test in tests/src/chat-e2e catches it too, slowly.
  {
    name: 'chat-refill-every-member',
    file: 'packages/chat/src/bootstrap-duty.ts',
    edits: [
      {
        search:
          "if (!refillCandidates(liveRecords, m).includes(this.ctx.nodeName)) return 'not-candidate';",
        replace:
          "if (!refillCandidates(liveRecords, liveRecords.length).includes(this.ctx.nodeName)) return 'not-candidate';",
      },
    ],
    tests: ['chat/dist/test/departure-duty'],
    why: 'only the minrefillcandidates longest-running members talk to the service when a member departs',
  },
];
