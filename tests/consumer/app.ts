// A program as a user of the published packages writes it: tests/src/consumer.test.ts installs
// the packed tarballs into a project outside the repository, type-checks this file there with
// `tsc` and runs it. It names the public types it uses, so that one missing from a package's
// entry point fails the type check. On success it prints one JSON line and exits 0.
import {
  BootstrapClient,
  type BootstrapData,
  contactAddresses,
  createMemoryStore,
  type PeerRecord,
} from '@isopeer/bootstrap';
import { type RunningBootstrapServer, startBootstrapServer } from '@isopeer/bootstrap/server';
import {
  type Broadcast,
  type Config,
  createMemberlist,
  type Delegate,
  defaultLocalConfig,
  type Memberlist,
  type MemberNode,
  namedBroadcast,
  TransmitLimitedQueue,
} from '@isopeer/memberlist';

const DEADLINE_MS = 20_000;

/** Resolves once `cond()` holds; rejects with `what` when the deadline passes first. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Node {
  ml: Memberlist;
  queue: TransmitLimitedQueue;
  received: string[];
}

async function startNode(name: string): Promise<Node> {
  const received: string[] = [];
  let ml: Memberlist | undefined;
  const queue = new TransmitLimitedQueue(() => ml?.numMembers() ?? 1, 4);
  const delegate: Delegate = {
    notifyMsg: (msg) => received.push(Buffer.from(msg).toString()),
    getBroadcasts: (overhead, limit) => queue.getBroadcasts(overhead, limit),
  };
  const config: Config = { ...defaultLocalConfig(), name, bindAddr: '127.0.0.1', bindPort: 0 };
  ml = await createMemberlist(config, { delegate });
  return { ml, queue, received };
}

async function memberlistRoundTrip(): Promise<{ members: string[]; delivered: number }> {
  const nodes = [await startNode('a'), await startNode('b'), await startNode('c')];
  try {
    const seed: MemberNode = nodes[0].ml.localNode();
    for (const n of nodes.slice(1)) await n.ml.join([`${seed.addr}:${seed.port}`]);
    await until('three members everywhere', () => nodes.every((n) => n.ml.numMembers() === 3));
    const hello: Broadcast = namedBroadcast('greeting', Buffer.from('hello from a'));
    nodes[0].queue.queueBroadcast(hello);
    await until('the broadcast at b and c', () =>
      nodes.slice(1).every((n) => n.received.includes('hello from a')),
    );
    return {
      members: nodes[0].ml
        .members()
        .map((m) => m.name)
        .sort(),
      delivered: nodes.filter((n) => n.received.includes('hello from a')).length,
    };
  } finally {
    await Promise.all(nodes.map((n) => n.ml.shutdown()));
  }
}

async function bootstrapRoundTrip(): Promise<{ listed: string[]; contacts: string[] }> {
  const server: RunningBootstrapServer = await startBootstrapServer({
    host: '127.0.0.1',
    port: 0,
    store: createMemoryStore(),
  });
  try {
    const client = new BootstrapClient({ url: server.url, timeoutMs: 5_000 });
    await client.ping();
    const peer = (id: string, port: string): PeerRecord => ({
      id,
      name: id,
      ip: '127.0.0.1',
      port,
      protocol: 'tcp',
      status: '0',
      timestamp: '1700000000',
    });
    await client.join(peer('p1', '7001'));
    await client.join(peer('p2', '7002'));
    const data: BootstrapData = await client.leave('p1');
    const listed = Object.keys((await client.list()).Peers).sort();
    return { listed, contacts: contactAddresses(data, 'someone-else') };
  } finally {
    await server.close();
  }
}

const memberlist = await memberlistRoundTrip();
const bootstrap = await bootstrapRoundTrip();
console.log(JSON.stringify({ memberlist, bootstrap }));
