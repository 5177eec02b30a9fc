import {
  type BootstrapLogEntry,
  type BootstrapWarning,
  STORE_SPEC_USAGE,
} from '@isopeer/bootstrap';
import { startBootstrapServer } from '@isopeer/bootstrap/server';
import type { Command } from 'commander';

/*
 * `isopeer bootstrap-server`: the development bootstrap service. Output contract (tests and
 * scripts rely on it): the first stdout line is
 *   listening on http://HOST:PORT (store SPEC, peer-ttl off|Ns, admin token on|off)
 * then one line per answered request:
 *   ISO-TIME METHOD PATH STATUS DURATIONms[ - reason]
 * and one line per stored value that cannot work (the request still succeeds):
 *   ISO-TIME warning PATH message
 * and `shutting down` / `stopped` on SIGINT or SIGTERM. Bad options: one line on stderr, exit 1.
 */

interface Options {
  port: string;
  host: string;
  store: string;
  adminToken?: string;
  peerTtl?: string;
}

class OptionError extends Error {}

function parsePort(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 65535) {
    throw new OptionError(`--port ${JSON.stringify(text)} is not a port number (0-65535)`);
  }
  return Number(text);
}

function parseTtlMs(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) {
    throw new OptionError(`--peer-ttl ${JSON.stringify(text)} is not a number of seconds`);
  }
  return Math.round(Number(text) * 1000);
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

async function run(opts: Options): Promise<void> {
  const port = parsePort(opts.port);
  const peerTtlMs = parseTtlMs(opts.peerTtl);
  const adminToken = opts.adminToken ?? (process.env.BOOTSTRAP_ADMIN_TOKEN || undefined);
  if (adminToken === '') throw new OptionError('--admin-token must not be empty');
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
  program
    .command('bootstrap-server')
    .description('run the bootstrap service (whom a new peer contacts first) over HTTP')
    .option('--port <port>', 'TCP port, 0 = any free port', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--store <spec>', `where the state lives: ${STORE_SPEC_USAGE}`, 'file:./peers.json')
    .option(
      '--admin-token <token>',
      'require "Authorization: Bearer <token>" on /reset and /config (env BOOTSTRAP_ADMIN_TOKEN)',
    )
    .option('--peer-ttl <seconds>', 'drop peers not refreshed by join/refill within this time')
    .action(async (opts: Options) => {
      try {
        await run(opts);
      } catch (err) {
        process.stderr.write(`isopeer bootstrap-server: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
