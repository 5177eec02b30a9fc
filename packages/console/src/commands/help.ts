import { ConsoleError } from '../errors.js';
import { formatUsage } from '../registry.js';
import { closestNames, didYouMean } from '../suggest.js';
import type { CommandSpec } from '../types.js';

/** `/help`, `/help groups`, `/help groups <group>`, `/help <command>`. */
export function helpCommands(): CommandSpec[] {
  return [
    {
      name: 'help',
      group: 'cli',
      usage: 'help [groups [<group>] | <command>]',
      description: "list commands, groups, or show one command's usage",
      maxArgs: 2,
      run(args, { console, out }) {
        const registry = console.registry;
        // Lines carry a wrap indent: on a terminal they break between words, not mid-word.
        const describe = (c: CommandSpec) =>
          out.text(`  ${formatUsage(c)}  —  ${c.description}`, { wrapIndent: 6 });
        if (args.length === 0) {
          for (const [group, cmds] of registry.groups()) {
            out.text(`${group}: ${cmds.map((c) => `/${c.name}`).join(' ')}`, {
              wrapIndent: group.length + 2,
            });
          }
          out.info('/help <command> shows its usage; /help groups <group> describes a group', {
            wrapIndent: 2,
          });
          return;
        }
        if (args[0] === 'groups') {
          const groups = registry.groups();
          if (args.length === 1) {
            for (const [group, cmds] of groups)
              out.text(`${group} (${cmds.length} command${cmds.length === 1 ? '' : 's'})`);
            return;
          }
          const cmds = groups.get(args[1]);
          if (!cmds) {
            const near = closestNames(args[1], groups.keys());
            const hint = near.length ? `; did you mean ${near.join(', ')}?` : '';
            throw new ConsoleError(
              'CONSOLE_UNKNOWN_GROUP',
              `unknown group "${args[1]}"${hint} (groups: ${[...groups.keys()].join(', ')})`,
            );
          }
          out.text(`${args[1]}:`);
          cmds.forEach(describe);
          return;
        }
        if (args.length > 1) {
          throw new ConsoleError('CONSOLE_USAGE', 'usage: /help [groups [<group>] | <command>]');
        }
        const name = args[0].replace(/^\//, '');
        const spec = registry.get(name);
        if (!spec) {
          throw new ConsoleError(
            'CONSOLE_UNKNOWN_COMMAND',
            `unknown command /${name}${didYouMean(name, registry.names())} (/help lists all commands)`,
          );
        }
        out.text(`usage: ${formatUsage(spec)}`, { wrapIndent: 7 });
        out.text(`  ${spec.description} (group ${spec.group})`, { wrapIndent: 2 });
      },
      complete(argIndex, partial, { console }, args) {
        if (argIndex === 0)
          return ['groups', ...console.registry.names()].filter((n) => n.startsWith(partial));
        if (argIndex === 1 && args[0] === 'groups') return [...console.registry.groups().keys()];
        return [];
      },
    },
  ];
}
