// Which bootstrap service `isopeer chat` uses: --bootstrap, else $BOOTSTRAP_DATA_SERVER, else the
// local default (http://localhost:8080, overridable with $ISOPEER_LOCAL_BOOTSTRAP_URL) if it
// answers /ping, else a bootstrap server started inside this process on that port (or any free
// port when it is taken), with its file store in the state directory.
import { join } from 'node:path';
import { type RunningBootstrapServer, startBootstrapServer } from '@isopeer/bootstrap/server';

export const LOCAL_BOOTSTRAP_URL = 'http://localhost:8080';

export interface BootstrapChoice {
  url: string;
  /** How the URL was chosen, for the start-up message. */
  origin: 'flag' | 'env' | 'local' | 'embedded';
  embedded?: RunningBootstrapServer;
  storeSpec?: string;
}

/** True when `url` answers POST /ping with OK within `timeoutMs`. */
export async function answersPing(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(new URL('/ping', url), {
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok && (await res.text()).trim() === 'OK';
  } catch {
    return false;
  }
}

export async function chooseBootstrap(
  flag: string | undefined,
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BootstrapChoice> {
  if (flag) return { url: flag, origin: 'flag' };
  if (env.BOOTSTRAP_DATA_SERVER) return { url: env.BOOTSTRAP_DATA_SERVER, origin: 'env' };
  const local = env.ISOPEER_LOCAL_BOOTSTRAP_URL || LOCAL_BOOTSTRAP_URL;
  if (await answersPing(local)) return { url: local, origin: 'local' };
  const storeSpec = `file:${join(stateDir, 'bootstrap-peers.json')}`;
  const wanted = Number(new URL(local).port || 80);
  let embedded: RunningBootstrapServer;
  try {
    embedded = await startBootstrapServer({ host: '127.0.0.1', port: wanted, store: storeSpec });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    // Something else holds the port but is no bootstrap service: any free port will do.
    embedded = await startBootstrapServer({ host: '127.0.0.1', port: 0, store: storeSpec });
  }
  return { url: embedded.url, origin: 'embedded', embedded, storeSpec };
}
