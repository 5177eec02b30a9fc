import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type LoadedScript,
  loadScripts,
  type NetMode,
  type PeerTemplates,
  parseDuration,
  parsePeerTemplates,
  parseRange,
  TestkitError,
  TestRunner,
  toHtml,
  toJsonReport,
  toJUnit,
} from '@isopeer/testkit';
import type { Command } from 'commander';
import { bailOnFailure, explainFailures, formatFinal, showProgress } from './test-output.js';

/*
 * `isopeer test <script.cmd>...`: runs test scripts end to end and exits 0 only if every command
 * and every expected event is OK (1 if any failed, 2 for unusable arguments or scripts).
 * Output (test-output.ts): live progress, then one line per script, the failures again and
 * the totals, and where the reports and peer logs are.
 */

interface Options {
  report?: string;
  junit?: string;
  json?: string;
  out?: string;
  deadline?: string;
  settle: string;
  grace: string;
  bail?: boolean;
  grep?: string;
  peerCmd: string[];
  net: string;
  netRange?: string;
}

/** The chat peer, started by default: `isopeer` is this CLI (see `programs` below). */
const CHAT_PEER =
  'isopeer chat {name} --test {test} --test-server {test_server} --bootstrap {bootstrap} --state-dir {state_dir} --bind {addr}';
const NET_MODES: NetMode[] = ['auto', 'netns', 'loopback'];

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

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

/** `--grep`: the scripts whose test name or file path matches `pattern` (a regular expression). */
function grep(loaded: LoadedScript[], pattern: string): LoadedScript[] {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    usageError(`--grep: ${(err as Error).message}`);
  }
  const picked = loaded.filter((l) => re.test(l.script.name) || re.test(l.file));
  if (picked.length === 0) usageError(`--grep ${pattern}: no script matches`);
  return picked;
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
    .option('--bail', 'stop at the first failure; the lines not reached count as cancelled')
    .option('--grep <pattern>', 'run only scripts whose name or file matches this regex')
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
    .action(async (given: string[], opts: Options) => {
      for (const f of given) if (!existsSync(f)) usageError(`no such script: ${f}`);
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
      let loaded: LoadedScript[];
      try {
        loaded = await loadScripts(given);
      } catch (err) {
        usageError(
          err instanceof TestkitError
            ? err.message
            : `cannot read scripts: ${(err as Error).message}`,
        );
      }
      if (opts.grep !== undefined) loaded = grep(loaded, opts.grep);
      const files = loaded.map((l) => l.file);
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const out = (s: string) => process.stdout.write(`${s}\n`);
      if (opts.grep !== undefined) {
        out(`--grep ${opts.grep}: running ${files.length} of ${given.length} scripts`);
      }
      const aborter = new AbortController();
      let interrupted = false;
      const interrupt = () => {
        interrupted = true;
        out('interrupted: stopping peers');
        aborter.abort();
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const settleMs = duration('--settle', opts.settle);
      const runner = new TestRunner({
        scripts: files,
        outDir: opts.out,
        lineDeadlineMs: opts.deadline ? duration('--deadline', opts.deadline) : undefined,
        settleMs,
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
      showProgress(runner, { out, color, settleMs, signal: aborter.signal });
      if (opts.bail) {
        bailOnFailure(runner, (why) => {
          out(`bail: ${why}; stopping (--bail)`);
          aborter.abort();
        });
      }
      const started = new Set<string>();
      runner.on('script-start', ({ file }) => started.add(file));
      let report: Awaited<ReturnType<TestRunner['run']>>;
      try {
        report = await runner.run();
      } catch (err) {
        usageError((err as Error).message);
      }
      out('');
      const explained = await explainFailures(report, runner.outDir);
      const notRun = loaded.filter((l) => !started.has(l.file));
      for (const line of formatFinal(report, { color, explained, notRun })) out(line);
      const written: string[] = [];
      await writeReport(opts.report, toHtml(report), written);
      await writeReport(opts.junit, toJUnit(report), written);
      await writeReport(opts.json, toJsonReport(report), written);
      if (written.length) out(`reports: ${written.join(', ')}`);
      if (!opts.out && report.ok && !interrupted) {
        // A passing run's temporary files help nobody; a failing run's are kept for inspection.
        await rm(runner.outDir, { recursive: true, force: true });
      } else {
        out(`run files and peer logs: ${runner.outDir}`);
      }
      process.exitCode = interrupted ? 130 : report.ok ? 0 : 1;
    });
}
