/**
 * What the listing commands (`/memberlist`, `/chatmembers`, `/bootstrappeers`, `/metrics`) share:
 * an aligned table for people by default, and with `--json` one line of JSON, the raw form, for
 * scripts and tests.
 */
import { type CommandSpec, UsageError } from '@isopeer/console';

/** Whether `--json` was asked for; any other argument is a usage error. */
export function jsonFlag(args: readonly string[]): boolean {
  if (args.length === 0) return false;
  if (args.length === 1 && args[0] === '--json') return true;
  throw new UsageError(`unexpected ${JSON.stringify(args.find((a) => a !== '--json'))}`);
}

/** The `--json` option's part of a command spec. */
export const jsonOption: Pick<CommandSpec, 'maxArgs' | 'complete'> = {
  maxArgs: 1,
  complete: (argIndex, partial) =>
    argIndex === 0 ? ['--json'].filter((x) => x.startsWith(partial)) : [],
};

/** Unix seconds as a UTC time without the milliseconds: `2026-05-04 10:20:30`. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}
