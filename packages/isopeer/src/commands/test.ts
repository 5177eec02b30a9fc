import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatDuration,
  formatSummaryTable,
  loadScripts,
  type NetMode,
  type PeerTemplates,
  parseDuration,
  parsePeerTemplates,
  parseRange,
  RUNNER_PEER,
  TestkitError,
  TestRunner,
  toHtml,
  toJsonReport,
  toJUnit,
} from '@isopeer/testkit';
import type { Command } from 'commander';

/*
 * `isopeer test <script.cmd>...`: runs test scripts end to end and exits 0 only if every command
 * and every expected event is OK (1 if any failed, 2 for unusable arguments or scripts).
 * Output: one line per script start, one per finished line (status, line, peer, command,
 * duration), then the summary table and where the reports and peer logs are.
 */

interface Options {
  report?: string;
  junit?: string;
  json?: string;
  out?: string;
  deadline?: string;
  settle: string;
  grace: string;
  peerCmd: string[];
  net: string;
  netRange?: string;
}

/** The chat peer, started by default: `isopeer` is this CLI (see `programs` below). */
const CHAT_PEER =
  'isopeer chat {name} --test {test} --test-server {test_server} --bootstrap {bootstrap} --state-dir {state_dir} --bind {addr}';
const NET_MODES: NetMode[] = ['auto', 'netns', 'loopback'];

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const SLOW_LINE_MS = 2000;

function usageError(message: string): never {
  process.stderr.write(`isopeer test: ${message}\n`);
  process.exit(2);
}

function duration(option: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    usageError(`${option}: ${(err as Error).message}`);
  }
}

async function writeReport(
  path: string | undefined,
  body: string,
  written: string[],
): Promise<void> {
  if (!path) return;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
  written.push(path);
}

export function registerTest(program: Command): void {
  program
    .command('test')
    .description(
      'run multi-peer test scripts: starts servers and peers, reports, exits 0 if all OK',
    )
    .argument('<scripts...>', 'test scripts (NAME.cmd)')
    .option('--report <file>', 'write the HTML report (a timeline picture of the run)')
    .option('--junit <file>', 'write JUnit XML (one test case per command and event)')
    .option('--json <file>', 'write the JSON summary')
    .option('--out <dir>', 'directory for run files and peer logs (default: a new temp dir)')
    .option(
      '--deadline <duration>',
      'deadline of one line unless a script sets @deadline (default 30s)',
    )
    .option('--settle <duration>', 'longest wait for expected events after the last line', '5s')
    .option('--grace <duration>', 'how long peers get to exit after SIGTERM', '2s')
    .option(
      '--peer-cmd <[name=]command>',
      'start peers with this command (placeholders {name} {test} {test_server} {bootstrap} {addr} {state_dir}); NAME=... for one peer; repeatable (default: isopeer chat)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--net <mode>',
      'peer network: netns (a namespace per peer, kernel faults; needs root, ip, nft), loopback, or auto',
      'auto',
    )
    .option('--net-range <cidr>', 'addresses of the namespaces (default 198.18.0.0/15)')
    .action(async (files: string[], opts: Options) => {
      for (const f of files) if (!existsSync(f)) usageError(`no such script: ${f}`);
      if (!NET_MODES.includes(opts.net as NetMode)) {
        usageError(`--net must be one of ${NET_MODES.join(', ')}, got ${JSON.stringify(opts.net)}`);
      }
      if (opts.netRange !== undefined) {
        try {
          parseRange(opts.netRange);
        } catch (err) {
          usageError(`--net-range: ${(err as Error).message}`);
        }
      }
      let templates: PeerTemplates = {};
      try {
        templates = parsePeerTemplates(opts.peerCmd);
      } catch (err) {
        usageError(`--peer-cmd: ${(err as Error).message}`);
      }
      try {
        await loadScripts(files);
      } catch (err) {
        usageError(
          err instanceof TestkitError
            ? err.message
            : `cannot read scripts: ${(err as Error).message}`,
        );
      }
      const color = process.stdout.isTTY && !process.env.NO_COLOR;
      const paint = (ok: boolean, s: string) => (color ? `\x1b[${ok ? 32 : 31}m${s}\x1b[0m` : s);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const aborter = new AbortController();
      const interrupt = () => {
        out('interrupted: stopping peers');
        aborter.abort();
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const runner = new TestRunner({
        scripts: files,
        outDir: opts.out,
        lineDeadlineMs: opts.deadline ? duration('--deadline', opts.deadline) : undefined,
        settleMs: duration('--settle', opts.settle),
        stopGraceMs: duration('--grace', opts.grace),
        signal: aborter.signal,
        net: opts.net as NetMode,
        netRange: opts.netRange,
        // Each peer gets its own state directory inside the run (the chat peer's `--state-dir`),
        // so member caches and history of other runs (or of the user's own chat) never leak in.
        peerTemplates: { ...templates, default: templates.default ?? CHAT_PEER },
        programs: { isopeer: [process.execPath, CLI] },
      });
      runner.on('network', (info) => {
        if (info.mode === 'netns') {
          out(
            `network: netns, one namespace per peer in ${info.subnet} (${info.namespaces}); test server and bootstrap on ${info.host}`,
          );
        } else if (info.reason) {
          out(`network: loopback (${info.reason}); kernel faults are unavailable`);
        }
      });
      runner.on('script-start', ({ file, script }, run, urls) => {
        out(
          `▶ ${script.name} (${file}): peers ${script.peers.join(', ')}; ${script.lines.length} lines, deadline ${formatDuration(run.lineDeadlineMs)}; test server ${urls.testServerUrl}, bootstrap ${urls.bootstrapUrl}`,
        );
      });
      // A line that takes a while gets one note, so a long wait never looks like a hang.
      const slow = new Map<number, NodeJS.Timeout>();
      runner.on('line-start', (_s, l) => {
        const who = l.peer === RUNNER_PEER ? 'runner' : l.peer;
        const note = setTimeout(() => {
          out(
            `  ...    L${String(l.lineNo).padEnd(4)} ${who.padEnd(10)} ${l.command}  (still running after ${formatDuration(SLOW_LINE_MS)})`,
          );
        }, SLOW_LINE_MS);
        note.unref();
        slow.set(l.seq, note);
      });
      runner.on('line-end', (_s, l) => {
        clearTimeout(slow.get(l.seq));
        slow.delete(l.seq);
        const took = formatDuration((l.endedAt ?? 0) - (l.startedAt ?? 0));
        const who = l.peer === RUNNER_PEER ? 'runner' : l.peer;
        const status = paint(l.status === 'OK', (l.status ?? '').padEnd(6));
        out(
          `  ${status} L${String(l.lineNo).padEnd(4)} ${who.padEnd(10)} ${l.command}  (${took})${l.comment ? `  - ${l.comment}` : ''}`,
        );
      });
      runner.on('peer-exit', (_s, peer, info) => {
        if (info.expected) return;
        // A peer that quits (`quit`, `exit`) ends with code 0; anything else is worth a warning.
        if (info.code === 0) out(`  · ${peer} exited (code 0)`);
        else out(`  ! ${peer} exited on its own (code ${info.code}, signal ${info.signal})`);
      });
      let report: Awaited<ReturnType<TestRunner['run']>>;
      try {
        report = await runner.run();
      } catch (err) {
        usageError((err as Error).message);
      }
      out('');
      for (const line of formatSummaryTable(report).split('\n')) {
        out(
          line.startsWith('PASSED') || line.startsWith('FAILED')
            ? paint(line.startsWith('PASSED'), line)
            : line,
        );
      }
      const written: string[] = [];
      await writeReport(opts.report, toHtml(report), written);
      await writeReport(opts.junit, toJUnit(report), written);
      await writeReport(opts.json, toJsonReport(report), written);
      if (written.length) out(`reports: ${written.join(', ')}`);
      if (!opts.out && report.ok && !aborter.signal.aborted) {
        // A passing run's temporary files help nobody; a failing run's are kept for inspection.
        await rm(runner.outDir, { recursive: true, force: true });
      } else {
        out(`run files and peer logs: ${runner.outDir}`);
      }
      process.exitCode = aborter.signal.aborted ? 130 : report.ok ? 0 : 1;
    });
}
