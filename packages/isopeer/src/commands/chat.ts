// `isopeer chat <name>`: the terminal chat peer. The peer lives in @isopeer/chat and the terminal
// UI in @isopeer/console; this file parses flags, picks the bootstrap service, wires the test
// client, signals and exit, and is the only place that prints or exits.
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { BootstrapClient } from '@isopeer/bootstrap';
import {
  type ConfigPreset,
  createChatPeer,
  isValidChatName,
  parseKeyBase64,
  registerChatPeer,
} from '@isopeer/chat';
import { Console, runInteractive } from '@isopeer/console';
import { attachTestClient, type TestClient } from '@isopeer/testkit';
import type { Command } from 'commander';
import {
  type BootstrapChoice,
  chooseBootstrap,
  LOCAL_BOOTSTRAP_URL,
} from '../chat/bootstrap-choice.js';
import { chatErrorHint } from '../chat/error-hints.js';
import { chatStateDir } from '../chat/state-dir.js';

interface ChatFlags {
  bootstrap?: string;
  bind: string;
  port: string;
  advertise?: string;
  config: string;
  log?: string;
  init: boolean;
  stateDir?: string;
  test?: string;
  testServer?: string;
  key?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

class OptionError extends Error {}

interface ChatOptions {
  name: string;
  bind: string;
  port: number;
  advertise?: string;
  preset: ConfigPreset;
  keys: Uint8Array[];
  test?: { script: string; server: string };
}

function parseFlags(name: string, f: ChatFlags): ChatOptions {
  if (!isValidChatName(name)) {
    throw new OptionError(
      `invalid name ${JSON.stringify(name)}: 1-64 characters without spaces, "/", "<" or ">"`,
    );
  }
  if (isIP(f.bind) === 0)
    throw new OptionError(`--bind ${JSON.stringify(f.bind)} is not an IP address`);
  if (f.advertise !== undefined && isIP(f.advertise) === 0) {
    throw new OptionError(`--advertise ${JSON.stringify(f.advertise)} is not an IP address`);
  }
  if (!/^\d+$/.test(f.port) || Number(f.port) > 65535) {
    throw new OptionError(`--port ${JSON.stringify(f.port)} is not a port number (0-65535)`);
  }
  if (f.config !== 'local' && f.config !== 'lan' && f.config !== 'wan') {
    throw new OptionError(`--config must be local, lan or wan, not ${JSON.stringify(f.config)}`);
  }
  if (f.bootstrap !== undefined && !/^https?:\/\/[^\s]+$/.test(f.bootstrap)) {
    throw new OptionError(`--bootstrap ${JSON.stringify(f.bootstrap)} is not an http(s) URL`);
  }
  const keys = (f.key ?? []).map((k) => {
    try {
      return parseKeyBase64(k);
    } catch (e) {
      throw new OptionError(`--key: ${(e as Error).message}`);
    }
  });
  const server = f.testServer ?? process.env.TEST_SIDECAR_SERVER;
  if (f.test !== undefined && !server) {
    throw new OptionError('--test needs --test-server URL (or TEST_SIDECAR_SERVER)');
  }
  return {
    name,
    bind: f.bind,
    port: Number(f.port),
    advertise: f.advertise,
    preset: f.config,
    keys,
    test: f.test !== undefined && server ? { script: f.test, server } : undefined,
  };
}

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('Run a chat peer: client and server at once, with commands typed as /name args')
    .argument('<name>', 'your name in the chat')
    .option(
      '--bootstrap <url>',
      'bootstrap service (default: $BOOTSTRAP_DATA_SERVER, else localhost:8080, else embedded)',
    )
    .option('--bind <addr>', 'address to bind memberlist and the chat listener to', '127.0.0.1')
    .option('--port <n>', 'memberlist port, 0 = ephemeral', '0')
    .option('--advertise <addr>', 'address told to others (default: detected from --bind)')
    .option('--config <preset>', 'memberlist preset: local | lan | wan', 'local')
    .option(
      '--key <base64>',
      'memberlist encryption key (16, 24 or 32 bytes), repeatable, first is primary',
      collect,
    )
    .option('--log <file>', 'write the log to this file')
    .option('--no-init', 'do not run /init at start')
    .option(
      '--state-dir <dir>',
      'member cache, history and embedded bootstrap store (default ~/.local/state/isopeer)',
    )
    .option(
      '--test <name>',
      'run the test script NAME.cmd from the test server (implies --no-init)',
    )
    .option('--test-server <url>', 'test server URL (default $TEST_SIDECAR_SERVER)')
    .addHelpText(
      'after',
      '\nA line starting with "/" is a command (/help lists them); any other line is sent to everyone.\n' +
        'Real network: --bind 0.0.0.0 --config lan (the advertised address is detected).',
    )
    .action(async (name: string, flags: ChatFlags) => {
      let opts: ChatOptions;
      try {
        opts = parseFlags(name, flags);
      } catch (e) {
        process.stderr.write(`isopeer chat: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        await runChat(opts, flags);
      } catch (e) {
        process.stderr.write(`isopeer chat: ${(e as Error).message}\n`);
        process.exit(1);
      }
    });
}

async function runChat(opts: ChatOptions, flags: ChatFlags): Promise<void> {
  const stateDir = chatStateDir(flags.stateDir);
  await mkdir(stateDir, { recursive: true });
  const console = new Console({
    logFile: flags.log,
    historyFile: join(stateDir, 'history'),
    errorHint: chatErrorHint,
  });
  await console.ready;

  // The UI starts first so that it shows every line from here on. Without a TTY the input is fed
  // through a pass-through stream, so `/init` runs first and the user's lines queue behind it.
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const input = tty ? process.stdin : new PassThrough();
  const session = new AbortController();
  const ui = runInteractive(console, { input, prompt: `${opts.name}> `, signal: session.signal });

  let choice: BootstrapChoice;
  try {
    choice = await chooseBootstrap(flags.bootstrap, stateDir);
  } catch (e) {
    throw new Error(`cannot start the embedded bootstrap server: ${(e as Error).message}`);
  }
  if (choice.origin === 'embedded') {
    const local = process.env.ISOPEER_LOCAL_BOOTSTRAP_URL || LOCAL_BOOTSTRAP_URL;
    console.write(
      'info',
      `no bootstrap service at ${local}; started one in this peer at ${choice.url} (store ${choice.storeSpec})`,
      'chat',
    );
  } else {
    console.write('info', `bootstrap service ${choice.url}`, 'chat');
  }

  const peer = createChatPeer({
    name: opts.name,
    console,
    bootstrap: new BootstrapClient({
      url: choice.url,
      adminToken: process.env.BOOTSTRAP_ADMIN_TOKEN || undefined,
    }),
    bindAddr: opts.bind,
    bindPort: opts.port,
    advertiseAddr: opts.advertise,
    preset: opts.preset,
    keys: opts.keys,
    cacheFile: join(stateDir, `members-${opts.name}.json`),
  });
  await peer.loadCache();
  registerChatPeer(peer);

  let testClient: TestClient | undefined;
  let exiting = false;
  const finish = async (code: number) => {
    if (exiting) return;
    exiting = true;
    session.abort();
    // Let the UI put the terminal back (raw mode off, cursor shown) before the process ends.
    await Promise.race([ui, new Promise((r) => setTimeout(r, 2_000).unref())]);
    await Promise.allSettled([testClient?.close(), peer.close()]);
    await choice.embedded?.close().catch(() => {});
    await console.close().catch(() => {});
    process.exit(code);
  };
  peer.on('exit', (code) => void finish(code));
  process.on('SIGTERM', () => void finish(143));
  process.on('SIGHUP', () => void finish(129));

  if (opts.test) {
    testClient = attachTestClient(console, {
      serverUrl: opts.test.server,
      peerName: opts.name,
      scriptName: opts.test.script,
    });
    testClient.on('error', (e: Error) =>
      console.write('error', `test client: ${e.message}`, 'test'),
    );
  } else if (flags.init) {
    if (input instanceof PassThrough) input.write('/init\n');
    else void console.execute('/init');
  }
  if (input instanceof PassThrough) process.stdin.pipe(input);

  await ui;
  // End of input (or the console closed): leave nothing running.
  await finish(0);
}
