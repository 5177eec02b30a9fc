// The bootstrap duty when a member departs, member by member: who talks to the service and how
// often. Real memberlist nodes (in-memory network, virtual clock) notice the departure and run
// the duty as the chat peer does; the bootstrap service is the real one (memory store) behind a
// client that skips HTTP, so every request can be counted exactly and attributed to its sender.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  type BootstrapData,
  createBootstrapService,
  createMemoryStore,
  formatConfigLine,
  formatPeerLine,
  type PeerRecord,
  parseDocument,
} from '@isopeer/bootstrap';
import { Console, type LogRecord } from '@isopeer/console';
import {
  createMemberlist,
  defaultLocalConfig,
  type Memberlist,
  type MemberNode,
  MemoryNetwork,
  seededRandom,
  VirtualClock,
} from '@isopeer/memberlist';
import type { BootstrapApi } from '../src/bootstrap-api.js';
import { BootstrapDuty, type RefillOutcome } from '../src/bootstrap-duty.js';
import { type ChatMemberRecord, MsgType } from '../src/member-record.js';
import type { PeerContext } from '../src/peer-context.js';
import { nodeNameFor } from '../src/peer-name.js';

type Endpoint = 'ping' | 'join' | 'leave' | 'refill' | 'list' | 'config';

/** One request as the service received it: who sent it, where, and the body. */
interface Call {
  by: string;
  endpoint: Endpoint;
  body: string;
}

/**
 * The bootstrap service as one member's client sees it, minus HTTP: the body the real client
 * would send goes to the real service's handler, whose document is parsed as the client does.
 */
class CountingClient implements BootstrapApi {
  constructor(
    private readonly by: string,
    private readonly service: ReturnType<typeof createBootstrapService>,
    private readonly calls: Call[],
    /** Endpoints that answer 503 (the service's store is down), as the real client reports it. */
    private readonly down: ReadonlySet<Endpoint> = new Set(),
  ) {}

  async #post(endpoint: Endpoint, body: string): Promise<string> {
    this.calls.push({ by: this.by, endpoint, body });
    if (this.down.has(endpoint)) {
      throw Object.assign(new Error(`/${endpoint}: store unavailable`), { status: 503 });
    }
    const res = await this.service.handle({
      method: 'POST',
      path: `/${endpoint}`,
      authorization: null,
      body: new TextEncoder().encode(body),
    });
    if (res.status !== 200) {
      throw Object.assign(new Error(`/${endpoint}: ${res.body.trim()}`), { status: res.status });
    }
    return res.body;
  }

  async ping(): Promise<unknown> {
    return this.#post('ping', '');
  }
  async join(peer: PeerRecord): Promise<BootstrapData> {
    return parseDocument(await this.#post('join', formatPeerLine(peer)));
  }
  async leave(id: string): Promise<BootstrapData> {
    return parseDocument(await this.#post('leave', id));
  }
  async refill(peer: PeerRecord): Promise<BootstrapData> {
    return parseDocument(await this.#post('refill', formatPeerLine(peer)));
  }
  async list(): Promise<BootstrapData> {
    return parseDocument(await this.#post('list', ''));
  }
  async reset(): Promise<BootstrapData> {
    throw new Error('not used by the duty');
  }
  async config(maxpeers: number, minrefillcandidates: number): Promise<BootstrapData> {
    return parseDocument(
      await this.#post('config', formatConfigLine({ maxpeers, minrefillcandidates })),
    );
  }
}

interface Member {
  name: string;
  nodeName: string;
  id: string;
  ml: Memberlist;
  duty: BootstrapDuty;
  console: Console;
  /** This member's chat record; its timestamp gives the age order (index 0 is the oldest). */
  record: ChatMemberRecord;
  /** `bootstrap duty done` records this member logged. */
  outcomes: LogRecord[];
}

interface Group {
  clock: VirtualClock;
  members: Member[];
  calls: Call[];
  /** Endpoints failing from now on. */
  down: Set<Endpoint>;
  service: ReturnType<typeof createBootstrapService>;
  close(): Promise<void>;
}

const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/**
 * `names.length` members on one in-memory network, joined into one memberlist group, each
 * joined to the bootstrap service in age order (the first `maxpeers` are listed). The service's
 * config is set first when given. Calls made while setting up are cleared.
 */
async function startGroup(
  names: string[],
  config?: { maxpeers: number; minrefillcandidates: number },
): Promise<Group> {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, seed: 7 });
  const service = createBootstrapService({ store: createMemoryStore() });
  const calls: Call[] = [];
  const down = new Set<Endpoint>();
  if (config) {
    await new CountingClient('admin', service, calls).config(
      config.maxpeers,
      config.minrefillcandidates,
    );
  }
  const members: Member[] = [];
  for (const [i, name] of names.entries()) {
    const id = uuid(i + 1);
    const nodeName = nodeNameFor(name, 'host', id);
    const ml = await createMemberlist(
      { ...defaultLocalConfig(), name: nodeName },
      { transport: net.createTransport(), clock, random: seededRandom(100 + i) },
    );
    const console = new Console();
    const ctx: PeerContext = {
      name,
      id,
      nodeName,
      console,
      out: console.writer('chat'),
      log: console.logger.child('chat'),
      cache: undefined,
      memberlist: () => ml,
      queue: () => undefined,
      stopping: () => false,
      closed: () => false,
    };
    const duty = new BootstrapDuty(ctx, {
      service: new CountingClient(name, service, calls, down),
      retry: { attempts: 1, baseDelayMs: 1 },
      signal: new AbortController().signal,
      startedAt: String(1_000 + i),
    });
    const outcomes: LogRecord[] = [];
    console.logger.on('record', (r: LogRecord) => {
      if (r.msg === 'bootstrap duty done') outcomes.push(r);
    });
    const record: ChatMemberRecord = {
      msgType: MsgType.JOIN,
      name: nodeName,
      sender: `127.0.0.1:${2_000 + i}`,
      timestamp: { seconds: 1_000 + i, nanos: 0 },
    };
    members.push({ name, nodeName, id, ml, duty, console, record, outcomes });
    const joined = await duty.joinService();
    assert.equal(joined.source, 'bootstrap');
  }
  await Promise.all(members.slice(1).map((m) => m.ml.join([members[0]!.ml.advertiseAddress])));
  const everyoneSeesAll = () => members.every((m) => m.ml.numMembers() === members.length);
  assert.ok(await clock.runUntil(everyoneSeesAll, 30_000), 'the group formed');
  calls.length = 0;
  return {
    clock,
    members,
    calls,
    down,
    service,
    async close() {
      await Promise.all(members.map((m) => m.ml.shutdown()));
      await Promise.all(members.map((m) => m.console.close()));
    },
  };
}

type Outcome = RefillOutcome | 'failed';

/**
 * `departing` crashes (or leaves); every survivor runs the duty when its memberlist reports the
 * departure, as the chat peer does, with the chat records it holds then (the departed's gone).
 * Returns each survivor's outcome once every survivor's duty has finished and logged it: only
 * then are the counts final.
 */
async function depart(
  g: Group,
  departing: Member,
  how: 'crash' | 'leave',
): Promise<Record<string, Outcome>> {
  const survivors = g.members.filter((m) => m !== departing);
  const records = survivors.map((m) => m.record);
  const duties = new Map<string, Promise<Outcome>>();
  for (const m of survivors) {
    m.ml.on('leave', (node: MemberNode) => {
      if (node.name !== departing.nodeName) return;
      const duty = m.duty.refillAfterDeparture(node, records);
      duties.set(
        m.name,
        duty.catch(() => 'failed' as const),
      );
    });
  }
  if (how === 'leave') {
    // The leave waits for its gossip, which moves with the virtual clock.
    let left = false;
    const leaving = departing.ml.leave(1_000).finally(() => {
      left = true;
    });
    assert.ok(await g.clock.runUntil(() => left, 5_000), 'the leave finished');
    await leaving;
  }
  await departing.ml.shutdown();
  const allNoticed = () => survivors.every((m) => duties.has(m.name));
  assert.ok(await g.clock.runUntil(allNoticed, 60_000), 'every survivor noticed the departure');
  const outcomes: Record<string, Outcome> = {};
  for (const m of survivors) outcomes[m.name] = await duties.get(m.name)!;
  for (const m of survivors) {
    assert.equal(m.outcomes.length, 1, `${m.name} logged one duty outcome`);
    assert.equal(m.outcomes[0]!.fields?.departed, departing.nodeName);
    assert.equal(m.outcomes[0]!.fields?.outcome, outcomes[m.name]);
  }
  return outcomes;
}

/** What each survivor logged: `name outcome leaves refills level`. */
function logged(survivors: Member[]): string[] {
  return survivors.map((m) => {
    const r = m.outcomes[0]!;
    return `${m.name} ${r.fields?.outcome} ${r.fields?.leaves} ${r.fields?.refills} ${r.level}`;
  });
}

/** Requests per member and endpoint, e.g. `bob leave` → 1. */
function tally(calls: Call[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[`${c.by} ${c.endpoint}`] = (out[`${c.by} ${c.endpoint}`] ?? 0) + 1;
  return out;
}

async function listedNames(g: Group): Promise<string[]> {
  const data = await new CountingClient('test', g.service, []).list();
  return Object.values(data.Peers)
    .map((p) => p.name.split('-')[0]!)
    .sort();
}

describe('bootstrap duty when a member departs', () => {
  let group: Group | undefined;
  afterEach(async () => {
    await group?.close();
    group = undefined;
  });

  it('a listed member crashes: the two oldest survivors act, one refills, the rest send nothing', async () => {
    group = await startGroup(['alice', 'bob', 'carol', 'dave', 'erin']);
    const [alice, , carol] = group.members as [Member, Member, Member];
    assert.deepEqual(await listedNames(group), ['alice', 'bob']);

    const outcomes = await depart(group, alice, 'crash');

    assert.deepEqual(outcomes, {
      bob: 'removed',
      carol: 'refilled',
      dave: 'not-candidate',
      erin: 'not-candidate',
    });
    assert.deepEqual(tally(group.calls), { 'bob leave': 1, 'carol leave': 1, 'carol refill': 1 });
    const leaves = group.calls.filter((c) => c.endpoint === 'leave');
    assert.ok(
      leaves.every((c) => c.body === alice.id),
      'each leave names the departed peer',
    );
    assert.equal(group.calls.find((c) => c.endpoint === 'refill')!.body.split(' ')[0], carol.id);
    assert.deepEqual(await listedNames(group), ['bob', 'carol']);
    // The counts are in the log records too, for whoever reads a peer's log.
    assert.deepEqual(logged(group.members.slice(1)), [
      'bob removed 1 0 info',
      'carol refilled 1 1 info',
      'dave not-candidate 0 0 info',
      'erin not-candidate 0 0 info',
    ]);
  });

  it('an unlisted member leaves: the two oldest each send one idempotent leave and no refill', async () => {
    group = await startGroup(['alice', 'bob', 'carol', 'dave']);
    const dave = group.members[3]!;
    const outcomes = await depart(group, dave, 'leave');
    assert.deepEqual(outcomes, {
      alice: 'removed',
      bob: 'removed',
      carol: 'not-candidate',
    });
    assert.deepEqual(tally(group.calls), { 'alice leave': 1, 'bob leave': 1 });
    assert.deepEqual(await listedNames(group), ['alice', 'bob']);
  });

  it('minrefillcandidates from the service decides how many act, whatever the group size', async () => {
    group = await startGroup(['alice', 'bob', 'carol', 'dave', 'erin', 'fred'], {
      maxpeers: 3,
      minrefillcandidates: 1,
    });
    assert.deepEqual(await listedNames(group), ['alice', 'bob', 'carol']);
    const bob = group.members[1]!;
    const outcomes = await depart(group, bob, 'crash');
    // Only alice, the oldest survivor, acts; she is listed, so she only takes bob off.
    assert.deepEqual(outcomes, {
      alice: 'removed',
      carol: 'not-candidate',
      dave: 'not-candidate',
      erin: 'not-candidate',
      fred: 'not-candidate',
    });
    assert.deepEqual(tally(group.calls), { 'alice leave': 1 });
    assert.deepEqual(await listedNames(group), ['alice', 'carol']);
  });

  it('a failing service: the candidates log the failure with what they sent, the others do nothing', async () => {
    group = await startGroup(['alice', 'bob', 'carol', 'dave']);
    group.down.add('leave');
    const outcomes = await depart(group, group.members[0]!, 'crash');
    assert.deepEqual(outcomes, { bob: 'failed', carol: 'failed', dave: 'not-candidate' });
    assert.deepEqual(logged(group.members.slice(1)), [
      'bob failed 1 0 warn',
      'carol failed 1 0 warn',
      'dave not-candidate 0 0 info',
    ]);
    assert.match(String(group.members[1]!.outcomes[0]!.fields?.error), /store unavailable/);
    assert.deepEqual(tally(group.calls), { 'bob leave': 1, 'carol leave': 1 });
  });
});
