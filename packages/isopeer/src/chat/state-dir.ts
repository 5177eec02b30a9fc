// Where `isopeer chat` keeps its files (member cache, input history, embedded bootstrap store):
// --state-dir, else $ISOPEER_STATE_DIR, else $XDG_STATE_HOME/isopeer, else ~/.local/state/isopeer.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function chatStateDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.ISOPEER_STATE_DIR) return env.ISOPEER_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'isopeer');
}
