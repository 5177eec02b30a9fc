import { tokenize } from '@isopeer/console';
import { parseDuration } from './duration.js';
import { ScriptSyntaxError } from './errors.js';
import { parseFilterArgs, parseWaitArgs } from './filter.js';
import { parsePeerTemplate } from './peer-command.js';

/**
 * Fault and life-cycle actions the runner performs itself (`@kill bob`). The network faults
 * (`partition`, `isolate`, `loss`, `rate`, `heal`) are applied by the kernel when peers run in
 * network namespaces; on loopback only two-way `@partition`/`@heal` work, through the peers.
 */
export type RunnerAction =
  | 'kill'
  | 'stop'
  | 'cont'
  | 'start'
  | 'partition'
  | 'heal'
  | 'isolate'
  | 'loss'
  | 'rate';

/** Pseudo peer name under which runner-level lines appear in the run document. */
export const RUNNER_PEER = '@runner';

/** A line executed by a peer: `<peer> <command line>`. */
export interface PeerLine {
  kind: 'peer';
  /** 1-based line number in the script file. */
  lineNo: number;
  peer: string;
  /** The command line without the peer, e.g. `testfilter messagesView 1 <bob> test`. */
  command: string;
  /** `<peer> <command>`, the form stored in the run document's `commands`. */
  text: string;
}

/** A bandwidth limit as written (`1mbit`) and in bits per second. */
export interface NetRate {
  text: string;
  bitsPerSecond: number;
}

/** A line executed by the runner: `@kill bob`, `@partition alice -> bob`, `@loss alice 20%`. */
export interface RunnerLine {
  kind: 'runner';
  lineNo: number;
  action: RunnerAction;
  /** The peers named, in order; `@heal` alone names none. */
  peers: string[];
  text: string;
  /** `a -> b`: only the traffic from peers[0] to peers[1] (partition, loss, heal). */
  oneWay?: boolean;
  /** `@loss`: percentage of packets dropped, 0 < p <= 100 (two decimals at most). */
  lossPercent?: number;
  /** `@rate`: the limit of the peer's outgoing traffic. */
  rate?: NetRate;
}

export type ScriptLine = PeerLine | RunnerLine;

export interface Script {
  name: string;
  lines: ScriptLine[];
  /** Per-line deadline from `@deadline`, if the script sets one. */
  lineDeadlineMs?: number;
  /** Upper bound from `@settle` on waiting for expected events after the last line. */
  settleMs?: number;
  /** Every peer named by the script, in order of first appearance. */
  peers: string[];
  /** Peers whose first appearance is `@start`: the runner starts them at that line, not before. */
  lateStart: string[];
  /** `@peer <name> <command...>`: how to start that peer (a template, see peer-command.ts). */
  peerCommands: Record<string, string>;
}

const PEER_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;
const COMMAND_NAME = /^\/?[A-Za-z][\w-]*$/;
/** The forms each runner action takes; the first words of an error message. */
const RUNNER_USAGE: Record<RunnerAction, string> = {
  kill: '@kill <peer>',
  stop: '@stop <peer>',
  cont: '@cont <peer>',
  start: '@start <peer>',
  partition: '@partition <a> <b> | @partition <a> -> <b>',
  heal: '@heal | @heal <peer> | @heal <a> <b> | @heal <a> -> <b>',
  isolate: '@isolate <peer>',
  loss: '@loss <peer> <P>% | @loss <a> <b> <P>% | @loss <a> -> <b> <P>%',
  rate: '@rate <peer> <N>(bit|kbit|mbit|gbit)',
};
const DIRECTIVES = ['deadline', 'settle', 'peer', ...Object.keys(RUNNER_USAGE)];
const PERCENT = /^(\d{1,3}(?:\.\d{1,2})?)%$/;
const RATE = /^(\d{1,6}(?:\.\d{1,3})?)(bit|kbit|mbit|gbit)$/i;
const RATE_UNIT: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
/** tbf needs a few packets' worth of tokens per timer tick; below this it stalls. */
export const MIN_RATE_BPS = 8_000;

/**
 * Network faults that only the kernel can apply: everything except a two-way `@partition a b`
 * and the `@heal` forms, which the loopback mode implements by asking both peers to drop traffic.
 */
export function needsKernel(line: RunnerLine): boolean {
  if (line.action === 'isolate' || line.action === 'loss' || line.action === 'rate') return true;
  return (line.action === 'partition' || line.action === 'heal') && line.oneWay === true;
}

/** Parses the arguments of a runner action; returns the line's fields or an error message. */
function parseRunnerArgs(
  action: RunnerAction,
  args: string[],
): Omit<RunnerLine, 'kind' | 'lineNo' | 'action' | 'text'> | string {
  const usage = `usage: ${RUNNER_USAGE[action]}`;
  const arrow = args.indexOf('->');
  const pair = (words: string[]) =>
    words.length === 3 && arrow === 1
      ? { peers: [words[0], words[2]], oneWay: true }
      : words.length === 2 && arrow === -1
        ? { peers: words }
        : undefined;
  switch (action) {
    case 'kill':
    case 'stop':
    case 'cont':
    case 'start':
    case 'isolate':
      return args.length === 1 && arrow === -1 ? { peers: args } : usage;
    case 'partition':
      return pair(args) ?? usage;
    case 'heal':
      if (args.length === 0) return { peers: [] };
      if (args.length === 1 && arrow === -1) return { peers: args };
      return pair(args) ?? usage;
    case 'loss': {
      const m = PERCENT.exec(args[args.length - 1] ?? '');
      const p = m ? Number(m[1]) : Number.NaN;
      if (!m) return `${usage} (the last word is the percentage, e.g. 20%)`;
      if (!(p > 0 && p <= 100))
        return `loss ${args[args.length - 1]} must be above 0% and at most 100%`;
      const who = args.slice(0, -1);
      const target = who.length === 1 && arrow === -1 ? { peers: who } : pair(who);
      return target ? { ...target, lossPercent: p } : usage;
    }
    case 'rate': {
      const m = args.length === 2 ? RATE.exec(args[1]) : null;
      if (!m) return `${usage}, e.g. @rate alice 1mbit`;
      const bitsPerSecond = Number(m[1]) * RATE_UNIT[m[2].toLowerCase()];
      if (bitsPerSecond < MIN_RATE_BPS) return `rate ${args[1]} is below the least of 8kbit`;
      return { peers: [args[0]], rate: { text: args[1].toLowerCase(), bitsPerSecond } };
    }
  }
}

/** Test names travel in URLs and file names; keep them to a safe alphabet. */
export const SCRIPT_NAME = /^[A-Za-z0-9][\w.-]{0,127}$/;

/**
 * Parses a test script. Format of the original (`<peer> <command line>` per line) plus `#`
 * comment lines, blank lines, runner lines (`@kill <peer>`, `@partition a -> b` ...) and the
 * directives `@deadline <duration>`, `@settle <duration>` and `@peer <name> <command...>`.
 * Errors name the file and line; a runner line naming a peer the script does not otherwise use
 * is an error too.
 */
export function parseScript(text: string, name: string, file?: string): Script {
  if (!SCRIPT_NAME.test(name)) {
    throw new ScriptSyntaxError(`bad test name ${JSON.stringify(name)}`, undefined, file);
  }
  const where = file ?? `${name}.cmd`;
  const script: Script = { name, lines: [], peers: [], lateStart: [], peerCommands: {} };
  const seen = new Set<string>();
  // Peers the script really runs: they have lines of their own, a `@start` or a `@peer` line.
  const declared = new Set<string>();
  const note = (peer: string, late: boolean) => {
    if (seen.has(peer)) return;
    seen.add(peer);
    script.peers.push(peer);
    if (late) script.lateStart.push(peer);
  };
  const rawLines = text.split(/\r?\n/);
  for (let i = 0; i < rawLines.length; i++) {
    const lineNo = i + 1;
    const raw = rawLines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fail = (msg: string): never => {
      throw new ScriptSyntaxError(msg, lineNo, where);
    };
    if (raw.includes('\0')) fail('NUL byte in line');
    const words = raw.split(/\s+/);
    if (raw.startsWith('@')) {
      const directive = words[0].slice(1);
      if (directive === 'deadline' || directive === 'settle') {
        const args = words.slice(1);
        if (args.length !== 1) fail(`@${directive} takes one duration, e.g. @${directive} 30s`);
        const key = directive === 'deadline' ? 'lineDeadlineMs' : 'settleMs';
        if (script[key] !== undefined) fail(`@${directive} given twice`);
        try {
          script[key] = parseDuration(args[0]);
        } catch (err) {
          fail((err as Error).message);
        }
        continue;
      }
      if (directive === 'peer') {
        const peer = words[1] ?? '';
        if (!PEER_NAME.test(peer))
          fail(`usage: @peer <name> <command...>; bad peer name ${JSON.stringify(peer)}`);
        const command = raw.slice(words[0].length).trim().slice(peer.length).trim();
        if (!command) fail(`@peer ${peer} has no command; expected "@peer <name> <command...>"`);
        if (Object.hasOwn(script.peerCommands, peer)) fail(`@peer ${peer} given twice`);
        try {
          parsePeerTemplate(command);
        } catch (err) {
          fail((err as Error).message);
        }
        script.peerCommands[peer] = command;
        declared.add(peer);
        continue;
      }
      if (!Object.hasOwn(RUNNER_USAGE, directive)) {
        fail(`unknown directive @${directive}; known: ${DIRECTIVES.map((d) => `@${d}`).join(' ')}`);
      }
      const action = directive as RunnerAction;
      // `a->b` is read as `a -> b`: peer names never hold a `>`.
      const args = raw
        .slice(words[0].length)
        .replace(/->/g, ' -> ')
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      const parsed = parseRunnerArgs(action, args);
      if (typeof parsed === 'string') fail(parsed);
      const fields = parsed as Exclude<typeof parsed, string>;
      for (const p of fields.peers)
        if (!PEER_NAME.test(p)) fail(`bad peer name ${JSON.stringify(p)}`);
      if (fields.peers.length === 2 && fields.peers[0] === fields.peers[1]) {
        fail(`@${action} needs two different peers`);
      }
      for (const p of fields.peers) note(p, action === 'start');
      if (action === 'start') declared.add(fields.peers[0]);
      script.lines.push({ kind: 'runner', lineNo, action, text: words.join(' '), ...fields });
      continue;
    }
    const peer = words[0];
    if (!PEER_NAME.test(peer)) fail(`bad peer name ${JSON.stringify(peer)}`);
    if (words.length < 2) fail(`peer ${peer} has no command; expected "<peer> <command line>"`);
    if (!COMMAND_NAME.test(words[1])) fail(`bad command name ${JSON.stringify(words[1])}`);
    const command = raw.slice(peer.length).trim();
    checkTestCommand(words[1].replace(/^\//, ''), command.slice(words[1].length), fail);
    note(peer, false);
    declared.add(peer);
    script.lines.push({ kind: 'peer', lineNo, peer, command, text: `${peer} ${command}` });
  }
  if (script.lines.length === 0) {
    throw new ScriptSyntaxError('script has no lines', undefined, where);
  }
  // A fault naming a peer that nothing else uses is almost surely a typo (`@partition alice zed`).
  for (const l of script.lines) {
    if (l.kind !== 'runner') continue;
    const stray = l.peers.find((p) => !declared.has(p));
    if (stray !== undefined) {
      throw new ScriptSyntaxError(
        `${l.text}: no line of the script uses ${stray} (peers: ${[...declared].join(', ') || 'none'}); a peer needs a line of its own, a @start or a @peer line`,
        l.lineNo,
        where,
      );
    }
  }
  // A peer declared only by `@peer` still runs: it is started with the others.
  for (const p of declared) if (!seen.has(p)) note(p, false);
  return script;
}

/** Filter arguments are checked when the script is read, not when the peer reaches the line. */
function checkTestCommand(name: string, rest: string, fail: (msg: string) => never): void {
  if (name !== 'testfilter' && name !== 'testwait') return;
  try {
    // The console's own word splitting, so quoting means the same here as when the peer runs it.
    const args = tokenize(rest).words;
    if (name === 'testfilter') parseFilterArgs(args);
    else parseWaitArgs(args);
  } catch (err) {
    fail(`${name}: ${(err as Error).message}`);
  }
}

/** Test name of a script file: its base name without `.cmd`. */
export function scriptNameFromPath(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.cmd$/, '');
}
