import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type LoadedScript,
  loadScripts,
  parseDuration,
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
}

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
    .action(async (given: string[], opts: Options) => {
      for (const f of given) if (!existsSync(f)) usageError(`no such script: ${f}`);
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
        // Each peer gets its own state directory inside the run, so member caches and history
        // of other runs (or of the user's own chat) never leak into a test.
        peerCommand: ({ peer, scriptName, testServerUrl, bootstrapUrl, runDir }) => ({
          command: process.execPath,
          args: [
            CLI,
            'chat',
            peer,
            '--test',
            scriptName,
            '--test-server',
            testServerUrl,
            '--bootstrap',
            bootstrapUrl,
            '--state-dir',
            join(runDir, `${peer}.state`),
          ],
          env: {
            ...process.env,
            TEST_SIDECAR_SERVER: testServerUrl,
            BOOTSTRAP_DATA_SERVER: bootstrapUrl,
          },
        }),
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
