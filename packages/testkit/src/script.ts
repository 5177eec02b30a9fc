import { tokenize } from '@isopeer/console';
import { parseDuration } from './duration.js';
import { ScriptSyntaxError } from './errors.js';
import { parseFilterArgs, parseWaitArgs } from './filter.js';

/** Fault and life-cycle actions the runner performs itself (`@kill bob`). */
export type RunnerAction = 'kill' | 'stop' | 'cont' | 'start' | 'partition' | 'heal';

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

/** A line executed by the runner: `@kill bob`, `@partition alice bob`. */
export interface RunnerLine {
  kind: 'runner';
  lineNo: number;
  action: RunnerAction;
  peers: string[];
  text: string;
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
}

const PEER_NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;
const COMMAND_NAME = /^\/?[A-Za-z][\w-]*$/;
const RUNNER_ARITY: Record<RunnerAction, number> = {
  kill: 1,
  stop: 1,
  cont: 1,
  start: 1,
  partition: 2,
  heal: 2,
};
const DIRECTIVES = ['deadline', 'settle', ...Object.keys(RUNNER_ARITY)];

/** Test names travel in URLs and file names; keep them to a safe alphabet. */
export const SCRIPT_NAME = /^[A-Za-z0-9][\w.-]{0,127}$/;

/**
 * Parses a test script. Format of the original (`<peer> <command line>` per line) plus `#`
 * comment lines, blank lines, runner lines (`@kill <peer>` ...) and the directives
 * `@deadline <duration>` and `@settle <duration>`. Errors name the file and line.
 */
export function parseScript(text: string, name: string, file?: string): Script {
  if (!SCRIPT_NAME.test(name)) {
    throw new ScriptSyntaxError(`bad test name ${JSON.stringify(name)}`, undefined, file);
  }
  const where = file ?? `${name}.cmd`;
  const script: Script = { name, lines: [], peers: [], lateStart: [] };
  const seen = new Set<string>();
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
      const args = words.slice(1);
      if (directive === 'deadline' || directive === 'settle') {
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
      if (!Object.hasOwn(RUNNER_ARITY, directive)) {
        fail(`unknown directive @${directive}; known: ${DIRECTIVES.map((d) => `@${d}`).join(' ')}`);
      }
      const action = directive as RunnerAction;
      const arity = RUNNER_ARITY[action];
      if (args.length !== arity) {
        fail(`@${action} takes ${arity === 1 ? 'one peer' : 'two peers'}, got ${args.length}`);
      }
      for (const p of args) if (!PEER_NAME.test(p)) fail(`bad peer name ${JSON.stringify(p)}`);
      if (arity === 2 && args[0] === args[1]) fail(`@${action} needs two different peers`);
      for (const p of args) note(p, action === 'start');
      script.lines.push({ kind: 'runner', lineNo, action, peers: args, text: words.join(' ') });
      continue;
    }
    const peer = words[0];
    if (!PEER_NAME.test(peer)) fail(`bad peer name ${JSON.stringify(peer)}`);
    if (words.length < 2) fail(`peer ${peer} has no command; expected "<peer> <command line>"`);
    if (!COMMAND_NAME.test(words[1])) fail(`bad command name ${JSON.stringify(words[1])}`);
    const command = raw.slice(peer.length).trim();
    checkTestCommand(words[1].replace(/^\//, ''), command.slice(words[1].length), fail);
    note(peer, false);
    script.lines.push({ kind: 'peer', lineNo, peer, command, text: `${peer} ${command}` });
  }
  if (script.lines.length === 0) {
    throw new ScriptSyntaxError('script has no lines', undefined, where);
  }
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
