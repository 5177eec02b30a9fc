import { readdirSync } from 'node:fs';

/** File-name completion for arguments that name files (scripts, config and log files). */
export function completePath(partial: string): string[] {
  const slash = partial.lastIndexOf('/');
  const dir = slash >= 0 ? partial.slice(0, slash + 1) : '';
  const prefix = partial.slice(slash + 1);
  try {
    return readdirSync(dir || '.', { withFileTypes: true })
      .filter(
        (e) => e.name.startsWith(prefix) && (prefix.startsWith('.') || !e.name.startsWith('.')),
      )
      .slice(0, 200)
      .map((e) => `${dir}${e.name}${e.isDirectory() ? '/' : ''}`);
  } catch {
    // An unreadable or missing directory simply offers nothing.
    return [];
  }
}
