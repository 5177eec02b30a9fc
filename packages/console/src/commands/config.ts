import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { completePath } from '../complete-path.js';
import type { ConfigProvider } from '../config-provider.js';
import { fieldsOnNextCreate } from '../config-provider.js';
import type { Console } from '../console.js';
import { ConsoleError, UsageError } from '../errors.js';
import { closestNames } from '../suggest.js';
import type { CommandSpec } from '../types.js';

const DEFAULT_MAX_BYTES = 1024 * 1024;

/** Registers `/showconfig [field...]`, `/saveconfig [file]`, `/loadconfig <file>` over `provider`. */
export function registerConfigCommands<T>(console: Console, provider: ConfigProvider<T>): void {
  const { format, group, defaultFile } = provider;
  const create = `/${provider.createCommand}`;
  const maxBytes = format.maxBytes ?? DEFAULT_MAX_BYTES;
  const commands: CommandSpec[] = [
    {
      name: 'showconfig',
      group,
      usage: 'showconfig [field...]',
      description: `show the ${format.title} (${format.notation}), or what the named fields do`,
      run(args, { out }) {
        if (args.length > 0) {
          for (const field of args) {
            const doc = format.fields.includes(field) ? format.doc(field) : undefined;
            if (doc === undefined) {
              const near = closestNames(field, format.fields);
              throw new UsageError(
                `no field ${JSON.stringify(field)}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`,
              );
            }
            out.text(`${field}: ${doc}`);
          }
          return;
        }
        // Secrets do not belong on a terminal and its scrollback.
        const shown = format.redact(provider.get(), '(hidden; /saveconfig writes it)');
        for (const line of format.serialize(shown).trimEnd().split('\n')) out.text(line);
        const later = fieldsOnNextCreate(provider, format.fields);
        if (later.length > 0)
          out.info(`take effect on the next ${create} only: ${later.join(', ')}`);
      },
      complete: (_i, partial) => format.fields.filter((f) => f.startsWith(partial)),
    },
    {
      name: 'saveconfig',
      group,
      usage: 'saveconfig [file]',
      description: `save the ${format.title} to a file (default ${defaultFile})`,
      maxArgs: 1,
      async run(args, { out }) {
        const file = args[0] ?? defaultFile;
        const config = provider.get();
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          // Write then rename, so an interrupted save never leaves half a file behind.
          await writeFile(tmp, format.serialize(config), {
            mode: format.hasSecret(config) ? 0o600 : 0o644,
          });
          await rename(tmp, file);
        } catch (err) {
          await rm(tmp, { force: true }).catch(() => {});
          throw new ConsoleError(
            'CONSOLE_CONFIG_FILE',
            `cannot save configuration to ${file}: ${(err as Error).message}`,
          );
        }
        out.info(`configuration saved to ${file}`);
      },
      complete: (argIndex, partial) => (argIndex === 0 ? completePath(partial) : []),
    },
    {
      name: 'loadconfig',
      group,
      usage: 'loadconfig <file>',
      description: `load a ${format.title} saved by /saveconfig; fields not in the file keep their values`,
      minArgs: 1,
      maxArgs: 1,
      async run(args, { out }) {
        const file = args[0];
        let text: string;
        try {
          const st = await stat(file);
          if (!st.isFile()) throw new Error('not a regular file');
          if (st.size > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw new ConsoleError(
            'CONSOLE_CONFIG_FILE',
            `cannot read configuration ${file}: ${(err as Error).message}`,
          );
        }
        const current = provider.get();
        const { config, warnings } = format.parse(text, { base: current, source: file });
        for (const w of warnings) out.warn(w);
        const changed = format.diff(current, config);
        if (changed.length === 0) {
          out.info(`${file}: no setting differs from the current configuration`);
          return;
        }
        await provider.set(config, changed);
        out.info(`${file}: changed ${changed.join(', ')}`);
        const later = fieldsOnNextCreate(provider, changed);
        if (later.length > 0)
          out.warn(`take effect on the next ${create} only: ${later.join(', ')}`);
      },
      complete: (argIndex, partial) => (argIndex === 0 ? completePath(partial) : []),
    },
  ];
  console.register(commands);
}
