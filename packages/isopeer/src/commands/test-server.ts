import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTestServer, formatDuration, parseDuration, type TestRun } from '@isopeer/testkit';
import type { Command } from 'commander';
import { OptionError, portNumber } from '../cli-options.js';
import { usageError } from '../cli-style.js';

/*
 * `isopeer test-server`: the test server of the original (same endpoints and documents) with
 * push delivery and per-line deadlines. Peers started by hand join with
 * `isopeer chat NAME --test SCRIPT --test-server URL`. Output: first stdout line
 *   listening on http://HOST:PORT (scripts in DIR, line deadline 30 s)
 * then one line per run start, finished line and run end. A bad option (including a --dir that
 * is not a directory): one line and a hint on stderr, exit 2; a port that cannot be listened on:
 * one line, exit 1.
 */

interface Options {
  port: string;
  host: string;
  dir: string;
  deadline: string;
}

function fail(message: string): never {
  process.stderr.write(`isopeer test-server: ${message}\n`);
  process.exit(1);
}

/** The scripts directory must exist now, not be found missing at the first `/init`. */
function scriptsDir(text: string): string {
  const dir = resolve(text);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new OptionError(
      `--dir ${JSON.stringify(text)}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`,
    );
  }
  if (!isDir) throw new OptionError(`--dir ${JSON.stringify(text)} is not a directory`);
  return dir;
}

function watch(run: TestRun): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`run ${run.id} ${run.name}: ${run.lines.length} lines, peers ${run.peers.join(', ')}`);
  run.on('line-end', (l) => {
    const took = formatDuration((l.endedAt ?? 0) - (l.startedAt ?? 0));
    out(
      `  ${l.status?.padEnd(6)} L${l.lineNo} ${l.peer} ${l.command} (${took})${l.comment ? ` - ${l.comment}` : ''}`,
    );
  });
  run.on('lines-done', () => out(`run ${run.id} ${run.name}: all lines done`));
}

export function registerTestServer(program: Command): void {
  const cmd = program
    .command('test-server')
    .description('Serve test scripts to peers (original protocol + push delivery + line deadlines)')
    .option('--port <port>', 'TCP port (env TEST_PORT)', process.env.TEST_PORT || '8081')
    .option('--host <addr>', 'Interface to listen on', '127.0.0.1')
    .option(
      '--dir <dir>',
      'Directory of NAME.cmd scripts and run folders (env TEST_DIR)',
      process.env.TEST_DIR || '.',
    )
    .option('--deadline <duration>', 'Deadline of one line unless a script sets @deadline', '30s')
    .action(async (opts: Options) => {
      let port: number;
      let lineDeadlineMs: number;
      let dir: string;
      try {
        port = portNumber('--port', opts.port);
        try {
          lineDeadlineMs = parseDuration(opts.deadline);
        } catch (err) {
          throw new OptionError(`--deadline: ${(err as Error).message}`);
        }
        dir = scriptsDir(opts.dir);
      } catch (err) {
        if (err instanceof OptionError) usageError(cmd, err.message);
        throw err;
      }
      let server: Awaited<ReturnType<typeof createTestServer>>;
      try {
        server = await createTestServer({
          dir,
          host: opts.host,
          port,
          lineDeadlineMs,
        });
      } catch (err) {
        fail(`cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`);
      }
      server.coordinator.on('run', watch);
      process.stdout.write(
        `listening on ${server.url} (scripts in ${dir}, line deadline ${formatDuration(lineDeadlineMs)})\n`,
      );
      const stop = () => {
        process.stdout.write('shutting down\n');
        void server.close().then(() => {
          process.stdout.write('stopped\n');
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
