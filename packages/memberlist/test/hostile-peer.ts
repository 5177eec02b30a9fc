// Test helpers for hostile input: one target node and any number of raw senders, either on the
// in-memory network with a virtual clock (exact, fast) or on real loopback UDP sockets.
import { ipToBytes } from '../src/address.js';
import { seededRandom, VirtualClock } from '../src/clock.js';
import {
  type Alive,
  encodeMessage,
  encodeVsn,
  MessageType,
  makeCompound,
  type PacketMessage,
} from '../src/codec/index.js';
import { type Config, defaultLocalConfig } from '../src/config.js';
import type { MemberlistHooks } from '../src/context.js';
import { createMemberlist, type Memberlist } from '../src/memberlist.js';
import { MemoryNetwork, type MemoryTransport } from '../src/transport/memory-transport.js';

export const TEST_VSN = encodeVsn({ pMin: 1, pMax: 5, pCur: 2, dMin: 0, dMax: 0, dCur: 0 });

/** An alive message for a made-up node `name` at `ip:port`. */
export function fakeAlive(name: string, incarnation = 1, ip = '10.200.0.1', port = 7946): Alive {
  return { incarnation, node: name, addr: ipToBytes(ip), port, meta: null, vsn: TEST_VSN };
}

/** `names` alive messages packed into compound datagrams of at most `perDatagram` parts. */
export function aliveFlood(names: string[], perDatagram: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < names.length; i += perDatagram) {
    const parts = names
      .slice(i, i + perDatagram)
      .map((n) => encodeMessage({ type: MessageType.Alive, body: fakeAlive(n) }));
    out.push(parts.length === 1 ? parts[0] : makeCompound(parts));
  }
  return out;
}

/** A target node on an in-memory network, a virtual clock, and raw senders on demand. */
export interface MemoryTarget {
  m: Memberlist;
  clock: VirtualClock;
  net: MemoryNetwork;
  /** A raw sender at `addr` (`host:port`), created on first use. */
  sender(addr: string): MemoryTransport;
  /** Sends `msg` (a message or raw datagram bytes) from `from` and lets it be processed. */
  inject(from: string, msg: PacketMessage | Uint8Array): Promise<void>;
  record(name: string): ReturnType<Memberlist['allNodes']>[number] | undefined;
  shutdown(): Promise<void>;
}

/** Probing and push/pull are pushed far out so only injected messages change the table. */
export async function memoryTarget(
  over: Partial<Config> = {},
  hooks: MemberlistHooks = {},
): Promise<MemoryTarget> {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock });
  const m = await createMemberlist(
    {
      ...defaultLocalConfig(),
      name: 'target',
      probeIntervalMs: 1e9,
      pushPullIntervalMs: 0,
      reconnectIntervalMs: 0,
      ...over,
    },
    { ...hooks, transport: net.createTransport('10.9.0.1:7946'), clock, random: seededRandom(3) },
  );
  const senders = new Map<string, MemoryTransport>();
  const sender = (addr: string) => {
    let t = senders.get(addr);
    if (!t) {
      t = net.createTransport(addr);
      t.setHandlers({ packet() {}, stream: (c) => c.close() });
      senders.set(addr, t);
    }
    return t;
  };
  return {
    m,
    clock,
    net,
    sender,
    async inject(from, msg) {
      const bytes = msg instanceof Uint8Array ? msg : encodeMessage(msg);
      await sender(from).sendPacket(m.advertiseAddress, bytes);
      await clock.advance(1);
    },
    record: (name) => m.allNodes().find((x) => x.name === name),
    async shutdown() {
      await m.shutdown();
      for (const t of senders.values()) await t.close();
    },
  };
}
