import type { GoFieldName, GoMemberlistConfig } from './go-memberlist-config.js';

/**
 * What an application registers with `console.useConfig()` so `/showconfig`, `/saveconfig` and
 * `/loadconfig` can work on its memberlist configuration.
 */
export interface ConfigProvider {
  /** The current configuration in Go's JSON form. */
  get(): GoMemberlistConfig;
  /** Applies a validated configuration; `changedFields` lists what differs from `get()`. */
  set(config: GoMemberlistConfig, changedFields: GoFieldName[]): void | Promise<void>;
  /**
   * Fields that a running node cannot change, so they only take effect when the node is created
   * again (`/memberlistcreate`). An array, or a function asked per field.
   */
  appliesOnNextCreate: readonly string[] | ((field: GoFieldName) => boolean);
  /** Group of the three commands; default `memberlist`. */
  group?: string;
  /** File `/saveconfig` writes without an argument; default `memberlist-config.json`. */
  defaultFile?: string;
  /** Command named in the "takes effect on the next ..." note; default `memberlistcreate`. */
  createCommand?: string;
}

export function fieldsOnNextCreate(
  provider: ConfigProvider,
  fields: readonly GoFieldName[],
): GoFieldName[] {
  const rule = provider.appliesOnNextCreate;
  return fields.filter((f) => (typeof rule === 'function' ? rule(f) : rule.includes(f)));
}
