import { completePath } from '../complete-path.js';
import { UsageError } from '../errors.js';
import { isLogLevel, LOG_LEVELS } from '../logger.js';
import type { CommandSpec } from '../types.js';

/** `/log on <file>`, `/log off`, `/loglevel [<subsystem> <level>]`. */
export function logCommands(): CommandSpec[] {
  return [
    {
      name: 'log',
      group: 'cli',
      usage: 'log [on <file> | off]',
      description:
        'write structured log records (JSON lines) to a file, stop, or show where they go',
      maxArgs: 2,
      async run(args, { console, out }) {
        const logger = console.logger;
        if (args.length === 0) {
          const { written, dropped } = logger.stats;
          out.text(
            logger.file
              ? `logging to ${logger.file} (${written} records written, ${dropped} dropped)`
              : 'logging is off (/log on <file> starts it)',
          );
          return;
        }
        if (args[0] === 'on' && args.length === 2) {
          await logger.openFile(args[1]);
          out.info(`logging to ${args[1]}`);
          return;
        }
        if (args[0] === 'off' && args.length === 1) {
          const file = logger.file;
          await logger.closeFile();
          out.info(file ? `logging to ${file} stopped` : 'logging was already off');
          return;
        }
        throw new UsageError(`expected "on <file>" or "off"`);
      },
      complete(argIndex, partial, _ctx, args) {
        if (argIndex === 0) return ['on', 'off'];
        return argIndex === 1 && args[0] === 'on' ? completePath(partial) : [];
      },
    },
    {
      name: 'loglevel',
      group: 'cli',
      usage: 'loglevel [<subsystem>|* <level>]',
      description: `show log levels, or set one subsystem's (or with * every subsystem's) level: ${LOG_LEVELS.join(', ')}`,
      maxArgs: 2,
      run(args, { console, out }) {
        const logger = console.logger;
        if (args.length === 0) {
          out.text(`default: ${logger.defaultLevel}`);
          for (const l of logger.levels()) {
            out.text(`${l.subsystem}: ${l.level}${l.own ? '' : ' (default)'}`);
          }
          return;
        }
        if (args.length !== 2) throw new UsageError('expected a subsystem and a level');
        const subsystem = args[0];
        const level = args[1].toLowerCase();
        if (!isLogLevel(level)) {
          throw new UsageError(`unknown level "${level}"; use one of ${LOG_LEVELS.join(', ')}`);
        }
        const known = subsystem === '*' || logger.levels().some((l) => l.subsystem === subsystem);
        logger.setLevel(subsystem, level);
        out.info(
          subsystem === '*' ? `all subsystems log at ${level}` : `${subsystem} logs at ${level}`,
        );
        if (!known)
          out.warn(`no subsystem "${subsystem}" has logged yet; the level applies once it does`);
      },
      complete(argIndex, _partial, { console }) {
        if (argIndex === 0) return ['*', ...console.logger.levels().map((l) => l.subsystem)];
        return argIndex === 1 ? [...LOG_LEVELS] : [];
      },
    },
  ];
}
