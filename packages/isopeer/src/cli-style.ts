// One style for every subcommand of `isopeer`: a usage error is one line naming the command and
// what was wrong, then one hint line (`run 'isopeer chat --help'`), never the whole help page; its
// exit status is always 2 (commander's own errors would give 1); descriptions start with a
// capital letter. Commander's errors (unknown option, missing argument, ...) and the flag checks
// of each subcommand go through the same path, so they look alike.
import type { Command } from 'commander';

/** Exit status of a usage error (a flag or argument that cannot be used), as in POSIX tools. */
export const USAGE_EXIT = 2;

function capitalise(text: string): string {
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Applies the style to `cmd` (call it once the command's options are defined, so their
 * descriptions are capitalised too).
 */
export function applyCliStyle(cmd: Command): Command {
  const path = commandPath(cmd);
  cmd.description(capitalise(cmd.description()));
  for (const o of cmd.options) o.description = capitalise(o.description);
  for (const a of cmd.registeredArguments) a.description = capitalise(a.description);
  cmd.helpOption('-h, --help', 'Show this help');
  if (cmd.commands.length > 0) cmd.helpCommand('help [command]', 'Show the help of a command');
  cmd.configureOutput({
    // Commander starts its messages with "error: "; ours say which command complained.
    outputError: (str, write) => write(str.replace(/^error: /, `${path}: `)),
  });
  cmd.showHelpAfterError(`run '${path} --help' for usage`);
  // Commander exits with 0 after --help and 1 for every mistake it finds itself.
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT));
  return cmd;
}

/** Reports a usage error of `cmd` in the common style and exits with status 2. */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: USAGE_EXIT, code: 'isopeer.usage' });
  // `error` exits through the override above; this satisfies the type checker.
  process.exit(USAGE_EXIT);
}
