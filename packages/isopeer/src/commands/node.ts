// `isopeer node`: a bare membership node speaking the node line protocol (JSON events on
// stdout, commands on stdin). The behaviour lives in ../node/; this file parses flags, wires
// stdin/stdout and signals, and is the only place that prints or exits.
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { collect, OptionError } from '../cli-options.js';
import { usageError } from '../cli-style.js';
import type { NodeEvent } from '../node/events.js';
import { parseNodeOptions, type RawNodeFlags } from '../node/options.js';
import { NodeRunner } from '../node/runner.js';

/** How long the nodes may take to leave gracefully after SIGINT or SIGTERM. */
export const LEAVE_ON_SIGNAL_MS = 2_000;

function print(ev: NodeEvent): void {
  process.stdout.write(`${JSON.stringify(ev)}\n`);
}

export function registerNode(program: Command): void {
  const cmd = program
    .command('node')
    .description('Run a bare membership node: JSON events out on stdout, commands in on stdin')
    .option('--name <name>', 'node name, unique in the cluster (default: host name)')
    .option('--bind <addr>', 'bind address', '127.0.0.1')
    .option('--port <port>', 'UDP and TCP port, 0 = ephemeral', '0')
    .option('--join <H:P,...>', 'join these nodes after start ([ipv6]:port allowed)')
    .option('--config <preset>', 'local | lan | wan (Go memberlist presets)', 'local')
    .option('--meta <text>', 'node metadata (at most 512 bytes)')
    .option('--key <base64>', 'encryption key, repeatable, first is primary', collect)
    .option('--label <text>', 'cluster label (memberlist >= 0.3), at most 255 bytes; default none')
    .option(
      '--skip-inbound-label-check',
      'accept only unlabelled input, as if it carried --label (Go SkipInboundLabelCheck)',
    )
    .option('--count <K>', 'run K nodes in this process: NAME-0 .. NAME-(K-1)')
    .option(
      '--join-stagger-ms <MS>',
      'with --count: node i > 0 starts its join to node 0 i*MS ms after start (0 = all at once)',
      '0',
    )
    .addHelpText(
      'after',
      '\nCommands on stdin: members, broadcast <text>, send <node> <text>, sendbest <node> <text>,\n' +
        'meta <text>, health, stats, join <H:P,...>, leave <ms>, shutdown; "@i <command>" targets\n' +
        'node i with --count. SIGINT or SIGTERM leaves the cluster gracefully (at most 2 s; a\n' +
        'second signal stops at once); end of input shuts down without leaving.\n' +
        'Protocol: docs/node-line-protocol-extensions.md and the shared node line protocol.',
    )
    .action(async (flags: RawNodeFlags) => {
      // Handlers go in before anything is announced: a SIGTERM arriving right after `ready`
      // would otherwise hit the default action and kill the process without `shutdown`.
      let runner: NodeRunner | undefined;
      let stopReason: string | undefined;
      let signalled = false;
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        process.on(sig, () => {
          if (signalled) {
            // A second signal: the person (or supervisor) does not want to wait for the leave.
            process.exitCode = 1;
            void runner?.force(`signal ${sig} again: stopped without finishing the leave`);
            return;
          }
          signalled = true;
          stopReason ??= `signal ${sig}`;
          void runner?.shutdown(stopReason, { leaveMs: LEAVE_ON_SIGNAL_MS });
        });
      }
      // A reader that goes away (EPIPE) ends the node like end of input, not with a crash.
      process.stdout.on('error', () => {
        stopReason ??= 'stdout closed';
        void runner?.shutdown(stopReason);
      });
      let opts: ReturnType<typeof parseNodeOptions>;
      try {
        opts = parseNodeOptions(flags, hostname());
      } catch (err) {
        if (err instanceof OptionError) usageError(cmd, err.message);
        throw err;
      }
      try {
        runner = await NodeRunner.start(opts, print);
      } catch (err) {
        process.stderr.write(`isopeer node: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      if (stopReason) void runner.shutdown(stopReason);
      const running = runner;
      const input = createInterface({ input: process.stdin });
      input.on('line', (line) => running.command(line));
      input.on('close', () => void running.shutdown('end of input'));
      await running.done;
      input.close();
      process.stdin.destroy();
    });
}
