import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { completePath } from '../complete-path.js';
import type { ConfigProvider } from '../config-provider.js';
import { fieldsOnNextCreate } from '../config-provider.js';
import type { Console } from '../console.js';
import { ConsoleError } from '../errors.js';
import {
  diffGoMemberlistConfig,
  GO_FIELD_NAMES,
  MAX_CONFIG_BYTES,
  parseGoMemberlistConfig,
  serializeGoMemberlistConfig,
} from '../go-memberlist-config.js';
import type { CommandSpec } from '../types.js';

/** Registers `/showconfig`, `/saveconfig [file]`, `/loadconfig <file>` over `provider`. */
export function registerConfigCommands(console: Console, provider: ConfigProvider): void {
  const group = provider.group ?? 'memberlist';
  const defaultFile = provider.defaultFile ?? 'memberlist-config.json';
  const create = `/${provider.createCommand ?? 'memberlistcreate'}`;
  const commands: CommandSpec[] = [
    {
      name: 'showconfig',
      group,
      usage: 'showconfig',
      description: 'show the memberlist configuration (Go field names, durations in nanoseconds)',
      maxArgs: 0,
      run(_args, { out }) {
        const config = provider.get();
        // The key is a secret; the terminal and its scrollback are not the place for it.
        const shown = config.SecretKey
          ? { ...config, SecretKey: '(hidden; /saveconfig writes it)' }
          : config;
        for (const line of serializeGoMemberlistConfig(shown).trimEnd().split('\n')) out.text(line);
        const later = fieldsOnNextCreate(provider, GO_FIELD_NAMES);
        if (later.length > 0)
          out.info(`take effect on the next ${create} only: ${later.join(', ')}`);
      },
    },
    {
      name: 'saveconfig',
      group,
      usage: 'saveconfig [file]',
      description: `save the memberlist configuration as JSON in Go's format (default file ${defaultFile})`,
      maxArgs: 1,
      async run(args, { out }) {
        const file = args[0] ?? defaultFile;
        const config = provider.get();
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          // Write then rename, so an interrupted save never leaves half a file behind.
          await writeFile(tmp, serializeGoMemberlistConfig(config), {
            mode: config.SecretKey ? 0o600 : 0o644,
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
      description:
        'load a memberlist configuration saved by /saveconfig or the Go prototype; fields not in the file keep their values',
      minArgs: 1,
      maxArgs: 1,
      async run(args, { out }) {
        const file = args[0];
        let text: string;
        try {
          const st = await stat(file);
          if (!st.isFile()) throw new Error('not a regular file');
          if (st.size > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw new ConsoleError(
            'CONSOLE_CONFIG_FILE',
            `cannot read configuration ${file}: ${(err as Error).message}`,
          );
        }
        const current = provider.get();
        const { config, warnings } = parseGoMemberlistConfig(text, { base: current, source: file });
        for (const w of warnings) out.warn(w);
        const changed = diffGoMemberlistConfig(current, config);
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
