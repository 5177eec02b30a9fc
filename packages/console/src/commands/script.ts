import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { completePath } from '../complete-path.js';
import type { RunContext } from '../console.js';
import { ConsoleError, UsageError } from '../errors.js';
import { MAX_SCRIPT_BYTES, parseScript } from '../script.js';
import { runProgram } from '../shell.js';
import type { CommandSpec } from '../types.js';

/** Longest `/sleep` accepted (one day); more is a typo, not a plan. */
const MAX_SLEEP_S = 86_400;
const DEFAULT_SHELL_TIMEOUT_S = 60;
/** Output lines of one `/shell` run kept; the rest are counted. */
const MAX_SHELL_LINES = 10_000;

function parseSeconds(s: string | undefined, what: string): number {
  if (s === undefined || !/^\d+(\.\d+)?$/.test(s)) {
    throw new UsageError(`${what} must be a number of seconds such as 2 or 0.5, got "${s ?? ''}"`);
  }
  const n = Number(s);
  if (n > MAX_SLEEP_S) throw new UsageError(`${what} must be at most ${MAX_SLEEP_S} seconds`);
  return n;
}

/** `/execute`, `/echo`, `/sleep`, `/shell`. */
export function scriptCommands(): CommandSpec[] {
  return [
    {
      name: 'execute',
      group: 'script',
      usage: 'execute <file> [--continue]',
      description:
        'run the commands in a file, one per line (# comments); stops at the first failure unless --continue',
      minArgs: 1,
      maxArgs: 2,
      async run(args, ctx) {
        const cont = args.includes('--continue');
        const files = args.filter((a) => a !== '--continue');
        if (files.length !== 1) throw new UsageError('expected one script file');
        const file = files[0];
        let buf: Buffer;
        try {
          buf = await readFile(file, { signal: ctx.signal });
        } catch (err) {
          throw new ConsoleError(
            'CONSOLE_SCRIPT',
            `cannot read script ${file}: ${(err as Error).message}`,
          );
        }
        if (buf.length > MAX_SCRIPT_BYTES) {
          throw new ConsoleError(
            'CONSOLE_SCRIPT',
            `script ${file} is larger than ${MAX_SCRIPT_BYTES} bytes`,
          );
        }
        const lines = parseScript(buf.toString('utf8'), file);
        const run = (ctx as RunContext).run;
        let failed = 0;
        let ran = 0;
        for (const { lineNo, text } of lines) {
          if (ctx.signal.aborted) {
            ctx.out.error(`${file}:${lineNo}: not run: the script was aborted`);
            return false;
          }
          ctx.out.info(`${file}:${lineNo}> ${text}`);
          const r = await run(text.startsWith('/') ? text : `/${text}`);
          ran++;
          if (!r.ok) {
            failed++;
            ctx.out.error(`${file}:${lineNo}: failed: ${text}${r.error ? ` (${r.error})` : ''}`);
            if (!cont) {
              ctx.out.error(
                `${file}: stopped at line ${lineNo} (use --continue to run past failures)`,
              );
              return false;
            }
          }
        }
        ctx.out.info(`${file}: ${ran} command(s) run, ${failed} failed`);
        return failed === 0;
      },
      complete(argIndex, partial) {
        return argIndex <= 1
          ? [...completePath(partial), ...(argIndex === 1 ? ['--continue'] : [])]
          : [];
      },
    },
    {
      name: 'echo',
      group: 'script',
      usage: 'echo <text>',
      description: 'print the text (quotes group words as usual)',
      run(args, { out }) {
        out.text(args.join(' '));
      },
    },
    {
      name: 'sleep',
      group: 'script',
      usage: 'sleep <seconds>',
      description: 'wait (fractions allowed); Ctrl-C or closing the console aborts the wait',
      minArgs: 1,
      maxArgs: 1,
      async run(args, { signal }) {
        await delay(parseSeconds(args[0], 'seconds') * 1000, undefined, { signal });
      },
    },
    {
      name: 'shell',
      group: 'script',
      usage: `shell [--timeout <seconds>] <program> [args...]`,
      description: `run a program without a shell and show its output and exit code (default timeout ${DEFAULT_SHELL_TIMEOUT_S} s, 0 = none)`,
      minArgs: 1,
      async run(args, { out, signal }) {
        let timeoutS = DEFAULT_SHELL_TIMEOUT_S;
        let i = 0;
        for (; i < args.length && args[i].startsWith('--'); i++) {
          if (args[i] === '--') {
            i++;
            break;
          }
          if (args[i] !== '--timeout') throw new UsageError(`unknown option ${args[i]}`);
          timeoutS = parseSeconds(args[++i], '--timeout');
        }
        const [program, ...rest] = args.slice(i);
        if (!program) throw new UsageError('missing program');
        let shown = 0;
        let hidden = 0;
        const show = (write: (s: string) => void) => (line: string) => {
          if (shown < MAX_SHELL_LINES) {
            shown++;
            write(line);
          } else hidden++;
        };
        const r = await runProgram(program, rest, {
          timeoutMs: timeoutS * 1000,
          signal,
          onStdout: show(out.text),
          onStderr: show(out.warn),
        });
        if (hidden > 0) out.warn(`${hidden} more output line(s) not shown`);
        if (r.timedOut) {
          out.error(`${program}: timed out after ${timeoutS} s and was killed`);
          return false;
        }
        if (r.aborted) {
          out.error(`${program}: aborted and killed`);
          return false;
        }
        if (r.signal) {
          out.error(`${program}: killed by ${r.signal}`);
          return false;
        }
        if (r.code !== 0) {
          out.error(`${program}: exit code ${r.code}`);
          return false;
        }
        out.info(`${program}: exit code 0`);
      },
      complete(argIndex, partial) {
        return argIndex === 0
          ? ['--timeout'].filter((o) => o.startsWith(partial))
          : completePath(partial);
      },
    },
  ];
}
