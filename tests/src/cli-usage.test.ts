// One CLI style across every `isopeer` subcommand: a usage error is one line naming the command
// and the mistake, then one hint line, exit status 2; one mistake is worded one way everywhere;
// `test-server --dir` is checked at start; `--help` exits 0 and every description starts with a
// capital letter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isopeerCli, repoRoot } from '../support/paths.js';

const SUBCOMMANDS = ['chat', 'node', 'bootstrap-server', 'test-server', 'test'];

function run(args: string[]) {
  const r = spawnSync(process.execPath, [isopeerCli, ...args], {
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: '1', TEST_DIR: '', TEST_PORT: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trimEnd().split('\n') };
}

/** Exit 2 and exactly two lines on stderr: the mistake, then where to read the usage. */
function assertUsageError(args: string[], command: string, message: string | RegExp): void {
  const r = run(args);
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr.join('\n')}`);
  assert.equal(r.stderr.length, 2, r.stderr.join('\n'));
  const [first, hint] = r.stderr;
  if (typeof message === 'string') assert.equal(first, `isopeer ${command}: ${message}`);
  else assert.match(first!, message);
  assert.equal(hint, `run 'isopeer ${command} --help' for usage`);
}

describe('usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const cmd of SUBCOMMANDS) {
    test(`isopeer ${cmd}: an unknown option is one line and a hint, exit 2`, () => {
      assertUsageError([cmd, 'x', '--bogus'], cmd, "unknown option '--bogus'");
    });
  }

  for (const cmd of ['chat', 'node', 'bootstrap-server', 'test-server']) {
    test(`isopeer ${cmd}: a bad --port is worded like everywhere else`, () => {
      const args = cmd === 'chat' ? [cmd, 'alice', '--port', '99999'] : [cmd, '--port', '99999'];
      assertUsageError(args, cmd, '--port "99999" is not a port number (0-65535)');
    });
  }

  test('a missing argument is a usage error', () => {
    assertUsageError(['chat'], 'chat', "missing required argument 'name'");
    assertUsageError(['test'], 'test', "missing required argument 'scripts'");
  });

  test('flag values that cannot be used, in each subcommand', () => {
    assertUsageError(
      ['chat', 'alice', '--bind', 'localhost'],
      'chat',
      '--bind "localhost" is not an IP address',
    );
    assertUsageError(
      ['node', '--bind', 'localhost'],
      'node',
      '--bind "localhost" is not an IP address',
    );
    assertUsageError(
      ['node', '--config', 'moon'],
      'node',
      '--config must be local, lan or wan, not "moon"',
    );
    assertUsageError(
      ['chat', 'a', '--config', 'moon'],
      'chat',
      '--config must be local, lan or wan, not "moon"',
    );
    assertUsageError(
      ['chat', 'a', '--label', 'x'.repeat(256)],
      'chat',
      /^isopeer chat: --label: .*too long/,
    );
    assertUsageError(
      ['bootstrap-server', '--peer-ttl', 'soon'],
      'bootstrap-server',
      '--peer-ttl "soon" is not a number of seconds',
    );
    assertUsageError(
      ['bootstrap-server', '--store', 'nowhere'],
      'bootstrap-server',
      /^isopeer bootstrap-server: --store: unknown store "nowhere"/,
    );
    assertUsageError(
      ['test-server', '--deadline', 'soon'],
      'test-server',
      /^isopeer test-server: --deadline: /,
    );
  });

  test('test-server checks --dir at start', () => {
    const missing = join(dir, 'missing');
    assertUsageError(
      ['test-server', '--port', '0', '--dir', missing],
      'test-server',
      `--dir ${JSON.stringify(missing)}: no such directory`,
    );
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    assertUsageError(
      ['test-server', '--port', '0', '--dir', file],
      'test-server',
      `--dir ${JSON.stringify(file)} is not a directory`,
    );
  });

  test('an unknown subcommand is a usage error of isopeer', () => {
    const r = run(['frob']);
    assert.equal(r.status, 2);
    assert.deepEqual(r.stderr, [
      "isopeer: unknown command 'frob'",
      "run 'isopeer --help' for usage",
    ]);
  });
});

describe('help', () => {
  for (const cmd of ['', ...SUBCOMMANDS]) {
    test(`isopeer ${cmd || '(no subcommand)'} --help: exit 0, every description capitalised`, () => {
      const r = run(cmd ? [cmd, '--help'] : ['--help']);
      assert.equal(r.status, 0, r.stderr.join('\n'));
      const lines = r.stdout.split('\n');
      // The command's own description is the first paragraph after the usage line.
      assert.match(lines[2]!, /^[A-Z]/, lines[2]);
      const entries = lines.filter((l) => /^ {2}\S/.test(l));
      assert.ok(entries.length > 0);
      for (const l of entries) {
        const description = /^ {2}\S.*? {2,}(\S.*)$/.exec(l)?.[1];
        if (description) assert.match(description, /^[A-Z$"(]/, `capitalised: ${l}`);
      }
    });
  }
});

describe('README', () => {
  test('the usage block lists every flag of every subcommand', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = /```sh\n(isopeer chat <name>[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the usage block');
    // Each subcommand's part: from its line to the next line that names another subcommand.
    const parts = new Map<string, string>();
    let current = '';
    for (const line of block.split('\n')) {
      const m = /^isopeer ([a-z-]+)/.exec(line);
      if (m) current = m[1]!;
      parts.set(current, `${parts.get(current) ?? ''}${line}\n`);
    }
    for (const cmd of SUBCOMMANDS) {
      const flags = [...run([cmd, '--help']).stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)]
        .map((m) => m[1]!)
        .filter((f) => f !== '--help');
      assert.ok(flags.length > 0, cmd);
      for (const flag of flags) {
        assert.ok(parts.get(cmd)?.includes(flag), `README usage of isopeer ${cmd} lists ${flag}`);
      }
    }
  });
});
