import { resolve } from 'node:path';
import { createTestServer, formatDuration, parseDuration, type TestRun } from '@isopeer/testkit';
import type { Command } from 'commander';

/*
 * `isopeer test-server`: the test server of the original (same endpoints and documents) with
 * push delivery and per-line deadlines. Peers started by hand join with
 * `isopeer chat NAME --test SCRIPT --test-server URL`. Output: first stdout line
 *   listening on http://HOST:PORT (scripts in DIR, line deadline 30 s)
 * then one line per run start, finished line and run end. Bad options: one line on stderr, exit 1.
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
  program
    .command('test-server')
    .description('serve test scripts to peers (original protocol + push delivery + line deadlines)')
    .option('--port <port>', 'TCP port (env TEST_PORT)', process.env.TEST_PORT || '8081')
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option(
      '--dir <dir>',
      'directory of NAME.cmd scripts and run folders (env TEST_DIR)',
      process.env.TEST_DIR || '.',
    )
    .option('--deadline <duration>', 'deadline of one line unless a script sets @deadline', '30s')
    .action(async (opts: Options) => {
      if (!/^\d{1,5}$/.test(opts.port) || Number(opts.port) > 65535)
        fail(`--port ${JSON.stringify(opts.port)} is not a port number`);
      let lineDeadlineMs: number;
      try {
        lineDeadlineMs = parseDuration(opts.deadline);
      } catch (err) {
        fail(`--deadline: ${(err as Error).message}`);
      }
      const dir = resolve(opts.dir);
      let server: Awaited<ReturnType<typeof createTestServer>>;
      try {
        server = await createTestServer({
          dir,
          host: opts.host,
          port: Number(opts.port),
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
