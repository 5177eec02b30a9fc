import {
  type BootstrapLogEntry,
  type BootstrapWarning,
  STORE_SPEC_USAGE,
} from '@isopeer/bootstrap';
import { startBootstrapServer } from '@isopeer/bootstrap/server';
import type { Command } from 'commander';
import { OptionError, portNumber, seconds } from '../cli-options.js';
import { usageError } from '../cli-style.js';

/*
 * `isopeer bootstrap-server`: the development bootstrap service. Output contract (tests and
 * scripts rely on it): the first stdout line is
 *   listening on http://HOST:PORT (store SPEC, peer-ttl off|Ns, admin token on|off)
 * then one line per answered request:
 *   ISO-TIME METHOD PATH STATUS DURATIONms[ - reason]
 * and one line per stored value that cannot work (the request still succeeds):
 *   ISO-TIME warning PATH message
 * and `shutting down` / `stopped` on SIGINT or SIGTERM. A bad option: one line and a hint on
 * stderr, exit 2; a server that cannot start: one line on stderr, exit 1.
 */

interface Options {
  port: string;
  host: string;
  store: string;
  adminToken?: string;
  peerTtl?: string;
}

/**
 * Request log lines are buffered and written once per event-loop turn: writing to a pipe is
 * synchronous on Linux, and one write per request would cost a system call each under load.
 */
function createLineWriter(stream: NodeJS.WriteStream) {
  let buffered = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffered === '') return;
    const text = buffered;
    buffered = '';
    stream.write(text);
  };
  return {
    line(text: string) {
      buffered += `${text}\n`;
      if (buffered.length > 65536) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

let stampMs = -1;
let stamp = '';
/** ISO time, formatted once per millisecond: under load dozens of lines share it. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== stampMs) {
    stampMs = ms;
    stamp = new Date(ms).toISOString();
  }
  return stamp;
}

function formatWarning(w: BootstrapWarning): string {
  return `${isoNow()} warning ${w.path} ${w.message}`;
}

function formatEntry(e: BootstrapLogEntry): string {
  const base = `${isoNow()} ${e.method} ${e.path} ${e.status} ${e.durationMs.toFixed(1)}ms`;
  return e.error === undefined ? base : `${base} - ${e.error}`;
}

interface Settings {
  port: number;
  peerTtlMs: number;
  adminToken: string | undefined;
}

function parseOptions(opts: Options): Settings {
  const port = portNumber('--port', opts.port);
  const peerTtlMs =
    opts.peerTtl === undefined ? 0 : Math.round(seconds('--peer-ttl', opts.peerTtl) * 1000);
  const adminToken = opts.adminToken ?? (process.env.BOOTSTRAP_ADMIN_TOKEN || undefined);
  if (adminToken === '') throw new OptionError('--admin-token must not be empty');
  return { port, peerTtlMs, adminToken };
}

async function run(opts: Options, { port, peerTtlMs, adminToken }: Settings): Promise<void> {
  const out = createLineWriter(process.stdout);
  const server = await startBootstrapServer({
    host: opts.host,
    port,
    store: opts.store,
    adminToken,
    peerTtlMs,
    onLog: (entry) => out.line(formatEntry(entry)),
    onWarning: (warning) => out.line(formatWarning(warning)),
  });
  const ttl = peerTtlMs > 0 ? `${peerTtlMs / 1000}s` : 'off';
  out.line(
    `listening on ${server.url} (store ${opts.store}, peer-ttl ${ttl}, admin token ${adminToken ? 'on' : 'off'})`,
  );
  out.flush();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      out.line(`${signal} again: exiting without waiting`);
      out.flush();
      process.exit(1);
    }
    stopping = true;
    out.line('shutting down');
    server.close().then(
      () => {
        out.line('stopped');
        out.flush();
        process.exit(0);
      },
      (err: unknown) => {
        out.flush();
        process.stderr.write(`isopeer bootstrap-server: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function registerBootstrapServer(program: Command): void {
  const cmd = program
    .command('bootstrap-server')
    .description('Run the bootstrap service (whom a new peer contacts first) over HTTP')
    .option('--port <port>', 'TCP port, 0 = any free port', '8080')
    .option('--host <addr>', 'Address to listen on', '127.0.0.1')
    .option('--store <spec>', `Where the state lives: ${STORE_SPEC_USAGE}`, 'file:./peers.json')
    .option(
      '--admin-token <token>',
      'Require "Authorization: Bearer <token>" on /reset and /config (env BOOTSTRAP_ADMIN_TOKEN)',
    )
    .option('--peer-ttl <seconds>', 'Drop peers not refreshed by join/refill within this time')
    .action(async (opts: Options) => {
      let settings: Settings;
      try {
        settings = parseOptions(opts);
      } catch (err) {
        if (err instanceof OptionError) usageError(cmd, err.message);
        throw err;
      }
      try {
        await run(opts, settings);
      } catch (err) {
        // A --store that names no store is a usage error; one that cannot be opened is not.
        if ((err as { code?: unknown }).code === 'BOOTSTRAP_STORE_SPEC') {
          usageError(cmd, `--store: ${(err as Error).message}`);
        }
        process.stderr.write(`isopeer bootstrap-server: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
