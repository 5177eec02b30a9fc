// `isopeer chat <name>`: the terminal chat peer. The peer lives in @isopeer/chat and the terminal
// UI in @isopeer/console; this file parses flags, picks the bootstrap service, wires the test
// client, signals and exit, and is the only place that prints or exits.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { BootstrapClient } from '@isopeer/bootstrap';
import {
  type ChatPeer,
  type ConfigPreset,
  createChatPeer,
  isValidChatName,
  registerChatPeer,
} from '@isopeer/chat';
import { Console, runInteractive } from '@isopeer/console';
import { validateLabel } from '@isopeer/memberlist';
import { attachTestClient, type TestClient } from '@isopeer/testkit';
import type { Command } from 'commander';
import {
  type BootstrapChoice,
  chooseBootstrap,
  LOCAL_BOOTSTRAP_URL,
} from '../chat/bootstrap-choice.js';
import { chatErrorHint } from '../chat/error-hints.js';
import { chatStateDir } from '../chat/state-dir.js';
import { aesKey, collect, ipAddress, OptionError, oneOf, portNumber } from '../cli-options.js';
import { usageError } from '../cli-style.js';

interface ChatFlags {
  bootstrap?: string;
  bind: string;
  port: string;
  advertise?: string;
  config: string;
  label?: string;
  /** A file, `false` for --no-log, or undefined for the default file in the state directory. */
  log?: string | false;
  init: boolean;
  stateDir?: string;
  test?: string;
  testServer?: string;
  key?: string[];
}

interface ChatOptions {
  name: string;
  bind: string;
  port: number;
  advertise?: string;
  preset: ConfigPreset;
  label: string;
  keys: Uint8Array[];
  test?: { script: string; server: string };
}

/**
 * How long leaving may take (bootstrap leave, telling the members, memberlist leave) before the
 * peer stops anyway: Ctrl-C, Ctrl-D, SIGINT, SIGTERM and /quit all leave, and none may hang.
 */
export const QUIT_TIMEOUT_MS = 5_000;

function parseFlags(name: string, f: ChatFlags): ChatOptions {
  if (!isValidChatName(name)) {
    throw new OptionError(
      `invalid name ${JSON.stringify(name)}: 1-64 characters without spaces, "/", "<" or ">"`,
    );
  }
  const bind = ipAddress('--bind', f.bind);
  const advertise = f.advertise === undefined ? undefined : ipAddress('--advertise', f.advertise);
  const port = portNumber('--port', f.port);
  const preset = oneOf('--config', f.config, PRESETS);
  if (f.bootstrap !== undefined && !/^https?:\/\/[^\s]+$/.test(f.bootstrap)) {
    throw new OptionError(`--bootstrap ${JSON.stringify(f.bootstrap)} is not an http(s) URL`);
  }
  const label = f.label ?? '';
  try {
    validateLabel(label);
  } catch (e) {
    throw new OptionError(`--label: ${(e as Error).message}`);
  }
  const keys = (f.key ?? []).map((k) => aesKey('--key', k));
  const server = f.testServer ?? process.env.TEST_SIDECAR_SERVER;
  if (f.test !== undefined && !server) {
    throw new OptionError('--test needs --test-server URL (or TEST_SIDECAR_SERVER)');
  }
  return {
    name,
    bind,
    port,
    advertise,
    preset,
    label,
    keys,
    test: f.test !== undefined && server ? { script: f.test, server } : undefined,
  };
}

const PRESETS: readonly ConfigPreset[] = ['local', 'lan', 'wan'];

export function registerChat(program: Command): void {
  const cmd = program
    .command('chat')
    .description('Run a chat peer: client and server at once, with commands typed as /name args')
    .argument('<name>', 'Your name in the chat')
    .option(
      '--bootstrap <url>',
      'Bootstrap service (default: $BOOTSTRAP_DATA_SERVER, else localhost:8080, else embedded)',
    )
    .option('--bind <addr>', 'Address to bind memberlist and the chat listener to', '127.0.0.1')
    .option('--port <port>', 'Memberlist port, 0 = ephemeral', '0')
    .option('--advertise <addr>', 'Address told to others (default: detected from --bind)')
    .option('--config <preset>', 'Memberlist preset: local | lan | wan', 'local')
    .option(
      '--key <base64>',
      'Memberlist encryption key (16, 24 or 32 bytes), repeatable, first is primary',
      collect,
    )
    .option(
      '--label <text>',
      'Cluster label (memberlist >= 0.3), at most 255 bytes; only nodes with the same label talk',
    )
    .option('--log <file>', 'Write the log here (default: <state-dir>/<name>.log)')
    .option('--no-log', 'Write no log file')
    .option('--no-init', 'Do not run /init at start')
    .option(
      '--state-dir <dir>',
      'Member cache, history, log and embedded bootstrap store (default ~/.local/state/isopeer)',
    )
    .option(
      '--test <name>',
      'Run the test script NAME.cmd from the test server (implies --no-init)',
    )
    .option('--test-server <url>', 'Test server URL (default $TEST_SIDECAR_SERVER)')
    .addHelpText(
      'after',
      '\nA line starting with "/" is a command (/help lists them); any other line is sent to everyone.\n' +
        'Ctrl-C twice, Ctrl-D, SIGINT and SIGTERM leave like /quit (at most 5 s; Ctrl-C again stops\n' +
        'at once); /exit stops without telling anyone.\n' +
        'Real network: --bind 0.0.0.0 --config lan (the advertised address is detected).',
    )
    .action(async (name: string, flags: ChatFlags) => {
      let opts: ChatOptions;
      try {
        opts = parseFlags(name, flags);
      } catch (e) {
        if (e instanceof OptionError) usageError(cmd, e.message);
        throw e;
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
  // The log is on by default, in the state directory: membership changes, suspicions, bootstrap
  // requests and errors are there when someone asks later what happened.
  const logFile =
    flags.log === false ? undefined : (flags.log ?? join(stateDir, `${opts.name}.log`));
  const console = new Console({
    logFile,
    historyFile: join(stateDir, 'history'),
    errorHint: chatErrorHint,
  });

  let peer: ChatPeer | undefined;
  let testClient: TestClient | undefined;
  let embedded: BootstrapChoice['embedded'];
  const session = new AbortController();
  let exiting = false;
  let ui: Promise<void> = Promise.resolve();
  const finish = async (code: number) => {
    if (exiting) return;
    exiting = true;
    session.abort();
    // Let the UI put the terminal back (raw mode off, cursor shown) before the process ends.
    await Promise.race([ui, new Promise((r) => setTimeout(r, 2_000).unref())]);
    await Promise.allSettled([testClient?.close(), peer?.close()]);
    await embedded?.close().catch(() => {});
    await console.close().catch(() => {});
    process.exit(code);
  };
  // Ctrl-C twice, Ctrl-D, the end of piped input, SIGINT, SIGTERM and SIGHUP all leave the way
  // /quit does (bounded by QUIT_TIMEOUT_MS); asked again while leaving, the peer stops at once.
  const leave = (why: string, again: string) => {
    if (!peer || peer.quitting) {
      void finish(peer ? 1 : 0);
      return;
    }
    console.write('info', `${why}leaving the group (${again} to stop at once)`, 'chat');
    void console.execute('/quit').then((r) => {
      if (!r.ok) void finish(1);
    });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => leave(`${sig}: `, 'send it again'));
  }

  // The UI starts first so that it shows every line from here on, the log file's "logging to"
  // included. Without a TTY the input is fed through a pass-through stream, so `/init` runs first
  // and the user's lines queue behind it.
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const input = tty ? process.stdin : new PassThrough();
  ui = runInteractive(console, {
    input,
    prompt: `${opts.name}> `,
    signal: session.signal,
    onExitRequest: () => leave('', 'press Ctrl-C again'),
  });
  await console.ready;

  let choice: BootstrapChoice;
  try {
    choice = await chooseBootstrap(flags.bootstrap, stateDir);
  } catch (e) {
    throw new Error(`cannot start the embedded bootstrap server: ${(e as Error).message}`);
  }
  embedded = choice.embedded;
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

  peer = createChatPeer({
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
    label: opts.label,
    quitTimeoutMs: QUIT_TIMEOUT_MS,
    cacheFile: join(stateDir, `members-${opts.name}.json`),
  });
  await peer.loadCache();
  registerChatPeer(peer);
  peer.on('exit', (code) => void finish(code));

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
  // The session ended without the peer asking to exit (the console closed): leave nothing running.
  await finish(0);
}
