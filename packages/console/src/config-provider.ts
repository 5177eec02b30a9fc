/**
 * What an application registers with `console.useConfig()` so `/showconfig`, `/saveconfig` and
 * `/loadconfig` can work on its configuration. The console knows nothing of what the
 * configuration holds: the format object parses, writes, compares and documents it.
 */

/** A configuration file format for values of type `T`. */
export interface ConfigFormat<T> {
  /** What the configuration is called in help and messages, e.g. `memberlist configuration`. */
  readonly title: string;
  /** How a file is written, for help, e.g. `JSON in Go's format: ...`. */
  readonly notation: string;
  /** Every field name, in the order files list them. */
  readonly fields: readonly string[];
  /** Largest file `/loadconfig` reads; default 1 MiB. */
  readonly maxBytes?: number;
  /** One line on what a field does, for `/showconfig <field>`. */
  doc(field: string): string | undefined;
  /**
   * Parses and validates a file; fields it leaves out keep the values of `base`. Throws an error
   * that names what is wrong (with `source`, the file name) and returns warnings for what was
   * accepted but ignored.
   */
  parse(text: string, opts: { base: T; source?: string }): { config: T; warnings: string[] };
  /** The file contents for a configuration. */
  serialize(config: T): string;
  /** Names of the fields whose values differ. */
  diff(a: T, b: T): readonly string[];
  /** Whether the configuration holds a secret (the file is then readable by its owner only). */
  hasSecret(config: T): boolean;
  /** The configuration with its secrets replaced by `placeholder`, for showing on screen. */
  redact(config: T, placeholder: string): T;
}

export interface ConfigProvider<T> {
  format: ConfigFormat<T>;
  /** The current configuration. */
  get(): T;
  /** Applies a validated configuration; `changedFields` lists what differs from `get()`. */
  set(config: T, changedFields: readonly string[]): void | Promise<void>;
  /**
   * Fields that a running application cannot change, so they only take effect when the thing
   * they configure is created again (`createCommand`). An array, or a function asked per field.
   */
  appliesOnNextCreate: readonly string[] | ((field: string) => boolean);
  /** Command named in the "takes effect on the next ..." note, without the `/`. */
  createCommand: string;
  /** Group of the three commands in `/help`. */
  group: string;
  /** File `/saveconfig` writes without an argument. */
  defaultFile: string;
}

export function fieldsOnNextCreate<T>(
  provider: ConfigProvider<T>,
  fields: readonly string[],
): string[] {
  const rule = provider.appliesOnNextCreate;
  return fields.filter((f) => (typeof rule === 'function' ? rule(f) : rule.includes(f)));
}
