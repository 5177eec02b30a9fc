// A small configuration format for testing the console's config commands on a type that is not
// memberlist's: `key=value` lines over three fields, one of them a secret.
import type { ConfigFormat, ConfigProvider } from '../src/index.js';

export interface Toy {
  color: string;
  size: string;
  token: string;
}

const FIELDS = ['color', 'size', 'token'] as const;
const DOCS: Record<string, string> = {
  color: 'what colour it is painted',
  size: 'how big it is',
  token: 'a secret that opens it',
};

export const toyFormat: ConfigFormat<Toy> = {
  title: 'toy configuration',
  notation: 'key=value lines',
  fields: FIELDS,
  maxBytes: 4096,
  doc: (field) => DOCS[field],
  parse(text, { base, source }) {
    const config = { ...base };
    const warnings: string[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const eq = line.indexOf('=');
      const key = line.slice(0, eq);
      if (eq < 0) throw new Error(`${source}: not key=value: ${JSON.stringify(line)}`);
      if ((FIELDS as readonly string[]).includes(key))
        config[key as keyof Toy] = line.slice(eq + 1);
      else warnings.push(`unknown field ${key} ignored`);
    }
    return { config, warnings };
  },
  serialize: (c) => `${FIELDS.map((f) => `${f}=${c[f]}`).join('\n')}\n`,
  diff: (a, b) => FIELDS.filter((f) => a[f] !== b[f]),
  hasSecret: (c) => c.token !== '',
  redact: (c, placeholder) => (c.token ? { ...c, token: placeholder } : c),
};

/** An application's configuration holder. */
export function toyProvider(
  initial: Toy,
  over: Partial<ConfigProvider<Toy>> = {},
): { p: ConfigProvider<Toy>; state: { config: Toy; sets: (readonly string[])[] } } {
  const state = { config: initial, sets: [] as (readonly string[])[] };
  const p: ConfigProvider<Toy> = {
    format: toyFormat,
    get: () => state.config,
    set(config, changed) {
      state.config = config;
      state.sets.push(changed);
    },
    appliesOnNextCreate: ['size'],
    createCommand: 'build',
    group: 'toy',
    defaultFile: 'toy.conf',
    ...over,
  };
  return { p, state };
}
