import { randomInt } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AddressRange, blockOf } from './addresses.js';
import { exec, NetnsError } from './exec.js';

/**
 * Which runner owns which block of addresses and names. A runner writes a claim file
 * (`<state dir>/<index>.json`, with its pid and process start time) before it creates anything,
 * and removes it after it removed everything. A claim whose process is gone belongs to a runner
 * that crashed or was killed: the next runner to start removes that block's leftovers
 * (namespaces and the processes in them, the host link, the nftables table) and the claim.
 */
export const DEFAULT_STATE_DIR = '/run/isopeer/netns';

/** The names of one mesh's objects on the host. */
export interface BlockNames {
  /** Namespace holding the bridge; peers' namespaces are `<hub>-<peer>`. */
  hub: string;
  /** The namespace of one peer. */
  peerNamespace(peer: string): string;
  /** Host side of the link into the hub (≤ 15 characters for any index below 10^7). */
  hostLink: string;
  /** nftables table in the host namespace that keeps mesh traffic from going anywhere else. */
  guardTable: string;
}

/** Every kernel object of block `index` is named from these, so leftovers can be found by name. */
export function blockNames(index: number): BlockNames {
  return {
    hub: `isopeer-${index}`,
    peerNamespace: (peer: string) => `isopeer-${index}-${peer}`,
    hostLink: `isopeer-${index}`,
    guardTable: `isopeer_${index}`,
  };
}

export interface ClaimFile {
  pid: number;
  /** Start time of that process (clock ticks since boot), so a reused pid is not taken as alive. */
  started: string;
  subnet: string;
}

async function processStart(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export async function readClaim(file: string): Promise<ClaimFile | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ClaimFile;
  } catch {
    return undefined;
  }
}

/** The claim's process still runs (same pid and start time). */
export async function claimAlive(claim: ClaimFile | undefined): Promise<boolean> {
  if (!claim || typeof claim.pid !== 'number') return false;
  return (await processStart(claim.pid)) === claim.started;
}

function overlaps(a: string, b: string): boolean {
  const parse = (s: string) => {
    const [ip, len] = s.split('/');
    const n = ip.split('.').reduce((x, p) => x * 256 + Number(p), 0);
    const size = 2 ** (32 - Number(len));
    return [n, n + size] as const;
  };
  const [a0, a1] = parse(a);
  const [b0, b1] = parse(b);
  return a0 < b1 && b0 < a1;
}

export interface Claim {
  index: number;
  release(): Promise<void>;
}

/** Takes a free block of `range` whose subnet no live claim overlaps. */
export async function claimBlock(range: AddressRange, stateDir: string): Promise<Claim> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const started = await processStart(process.pid);
  if (!started) throw new NetnsError('cannot read this process start time from /proc');
  const live: string[] = [];
  for (const f of await readdir(stateDir)) {
    const c = f.endsWith('.json') ? await readClaim(join(stateDir, f)) : undefined;
    if (c && (await claimAlive(c))) live.push(c.subnet);
  }
  // From a random block on, so that a block just given up is rarely taken again at once by a
  // runner starting at the same time (whoever checks the old one's leftovers cannot tell them apart).
  const first = randomInt(range.blocks);
  for (let i = 0; i < range.blocks; i++) {
    const index = (first + i) % range.blocks;
    const { subnet } = blockOf(range, index);
    if (live.some((s) => overlaps(s, subnet))) continue;
    const file = join(stateDir, `${index}.json`);
    const claim: ClaimFile = { pid: process.pid, started, subnet };
    try {
      await writeFile(file, `${JSON.stringify(claim)}\n`, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    return { index, release: () => rm(file, { force: true }) };
  }
  throw new NetnsError(
    `all ${range.blocks} address blocks of ${range.text} are in use by other runs; wait for them or give --net-range another range`,
  );
}

/** Names of the namespaces, host links and nftables tables that follow our naming. */
export async function listOurs(): Promise<{
  namespaces: string[];
  links: string[];
  tables: string[];
}> {
  const ns = await exec('ip', ['netns', 'list'], { allowFailure: true });
  const links = await exec('ip', ['-o', 'link', 'show'], { allowFailure: true });
  const tables = await exec('nft', ['list', 'tables'], { allowFailure: true });
  return {
    namespaces: ns.stdout
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => /^isopeer-\d+(-|$)/.test(n)),
    links: [...links.stdout.matchAll(/^\d+: (isopeer-\d+)[@:]/gm)].map((m) => m[1]),
    tables: [...tables.stdout.matchAll(/^table inet (isopeer_\d+)$/gm)].map((m) => m[1]),
  };
}

/**
 * Kills whatever still runs in namespace `ns`, then deletes it. The processes go first: a
 * namespace still in use would live on, unnamed and unreachable, for as long as they do.
 */
export async function removeNamespace(ns: string): Promise<void> {
  const pids = await exec('ip', ['netns', 'pids', ns], { allowFailure: true });
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await exec('ip', ['netns', 'del', ns]);
}

/** Block index a name of ours belongs to. */
function indexOf(name: string): number {
  return Number(/^isopeer[-_](\d+)/.exec(name)![1]);
}

/**
 * Removes everything of block `index`: the processes inside its namespaces (SIGKILL), the
 * namespaces, the host link and the guard table. Missing pieces are fine; what fails to go is
 * returned, so the caller can say what is left.
 */
export async function removeBlock(
  index: number,
  found?: Awaited<ReturnType<typeof listOurs>>,
): Promise<{ removed: string[]; failed: string[] }> {
  const names = blockNames(index);
  const have = found ?? (await listOurs());
  const mine = (n: string) => indexOf(n) === index;
  const removed: string[] = [];
  const failed: string[] = [];
  const attempt = async (what: string, cmd: string, args: string[]) => {
    try {
      await exec(cmd, args);
      removed.push(what);
    } catch (err) {
      failed.push(`${what}: ${(err as Error).message}`);
    }
  };
  // The host link first: deleting it by hand is immediate, while the kernel would take it away
  // only some time after the hub's namespace is gone.
  if (have.links.includes(names.hostLink)) {
    await attempt(`link ${names.hostLink}`, 'ip', ['link', 'del', names.hostLink]);
  }
  // Peers before the hub (their links hang on its bridge).
  const namespaces = have.namespaces
    .filter(mine)
    .sort((a, b) => (a === names.hub ? 1 : b === names.hub ? -1 : 0));
  for (const ns of namespaces) {
    try {
      await removeNamespace(ns);
      removed.push(`namespace ${ns}`);
    } catch (err) {
      failed.push(`namespace ${ns}: ${(err as Error).message}`);
    }
  }
  if (have.tables.includes(names.guardTable)) {
    await attempt(`nftables table inet ${names.guardTable}`, 'nft', [
      'delete',
      'table',
      'inet',
      names.guardTable,
    ]);
  }
  return { removed, failed };
}

/**
 * Removes what runners that are gone left behind: blocks whose claim's process no longer runs,
 * and objects named like ours that no claim covers. Returns what was removed.
 */
export async function cleanStale(stateDir: string): Promise<string[]> {
  const removed: string[] = [];
  const liveIndexes = new Set<number>();
  // Objects first, claims second: a runner claims before it creates, so every object listed
  // here that belongs to a live runner has its claim file in the directory read below.
  const found = await listOurs();
  let files: string[] = [];
  try {
    files = await readdir(stateDir);
  } catch {
    // No state directory: no runner ever claimed anything here.
  }
  for (const f of files) {
    const m = /^(\d+)\.json$/.exec(f);
    if (!m) continue;
    const index = Number(m[1]);
    if (await claimAlive(await readClaim(join(stateDir, f)))) {
      liveIndexes.add(index);
      continue;
    }
    const r = await removeBlock(index, found);
    removed.push(...r.removed);
    // A claim stays while something of its block could not be removed, so a later run retries.
    if (r.failed.length === 0) await rm(join(stateDir, f), { force: true });
  }
  const claimed = new Set(files.map((f) => Number(/^(\d+)\.json$/.exec(f)?.[1] ?? -1)));
  const orphans = new Set(
    [...found.namespaces, ...found.links, ...found.tables]
      .map(indexOf)
      .filter((i) => !claimed.has(i)),
  );
  for (const index of orphans) {
    if (liveIndexes.has(index)) continue;
    removed.push(...(await removeBlock(index, found)).removed);
  }
  return removed;
}
