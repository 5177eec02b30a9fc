import type { LogKind } from './protocol.js';
import type { FaultDetail } from './report/model.js';
import type { NetRate, RunnerLine } from './script.js';

/** A log entry the runner writes for a fault line, on one peer's lane. */
export interface FaultLog {
  peer: string;
  kind: LogKind;
  fault: FaultDetail;
}

/** What applying one fault line changed. */
export interface FaultChange {
  /** Peers whose outgoing drop rules changed (each fault is applied where its traffic leaves). */
  rules: Set<string>;
  /** Peers whose bandwidth limit changed. */
  rates: Set<string>;
  /** Unordered pairs newly cut both ways / no longer cut either way (the loopback mode's view). */
  cut: [string, string][];
  uncut: [string, string][];
  logs: FaultLog[];
}

const key = (from: string, to: string) => `${from}\0${to}`;

/**
 * How a directed link is cut. `all`: every packet from → to is dropped. `open`: what `from`
 * starts is dropped — every datagram (UDP, ICMP) and every TCP connection it tries to open —
 * while its answers on TCP connections `to` opened still pass. That is the one-way partition
 * `@partition a -> b`: a cannot reach b, b still reaches a. (Dropping a's every packet would
 * also kill b's TCP connections to a, whose replies travel a → b, so TCP traffic would be lost
 * both ways.)
 */
export type CutKind = 'all' | 'open';

/**
 * The network faults in force, as directed links: cuts, `loss` (a percentage of the packets
 * dropped) and per-peer bandwidth limits. Pure state: the network modes turn it into kernel rules
 * (netns) or `testpartition` commands (loopback).
 *
 * Every fault is directed. `@partition a b` cuts a→b and b→a (`all`), `@partition a -> b` only
 * a→b (`open`), `@isolate a` every link from and to a (`all`), `@loss a 20%` every link from a.
 * A full cut wins over a one-way cut and over loss on the same link. The `@heal` forms remove what
 * they name: everything, everything touching one peer, one link, or one direction.
 */
export class NetFaults {
  readonly peers: readonly string[];
  private readonly blocked = new Map<string, CutKind>();
  private readonly loss = new Map<string, number>();
  private readonly rates = new Map<string, NetRate>();

  constructor(peers: readonly string[]) {
    this.peers = peers;
  }

  cut(from: string, to: string): CutKind | undefined {
    return this.blocked.get(key(from, to));
  }

  lossPercent(from: string, to: string): number | undefined {
    return this.loss.get(key(from, to));
  }

  rate(peer: string): NetRate | undefined {
    return this.rates.get(peer);
  }

  /** Any fault in force at all (so that the end of a script knows whether to heal). */
  get active(): boolean {
    return this.blocked.size + this.loss.size + this.rates.size > 0;
  }

  /**
   * What `from` drops, by destination: everything (`blocked`), what it starts (`oneWay`), a
   * share of the packets (`loss`, applied to what a one-way cut lets through).
   */
  egress(from: string): { blocked: string[]; oneWay: string[]; loss: [string, number][] } {
    const blocked: string[] = [];
    const oneWay: string[] = [];
    const loss: [string, number][] = [];
    for (const to of this.peers) {
      if (to === from) continue;
      const cut = this.blocked.get(key(from, to));
      if (cut === 'all') {
        blocked.push(to);
        continue;
      }
      if (cut === 'open') oneWay.push(to);
      const p = this.loss.get(key(from, to));
      if (p !== undefined) loss.push([to, p]);
    }
    return { blocked, oneWay, loss };
  }

  private block(from: string, to: string, kind: CutKind): void {
    if (this.blocked.get(key(from, to)) !== 'all') this.blocked.set(key(from, to), kind);
  }

  apply(line: RunnerLine): FaultChange {
    const before = this.snapshot();
    const logs: FaultLog[] = [];
    const [a, b] = line.peers;
    const others = (p: string) => this.peers.filter((x) => x !== p);
    const link = (from: string, to: string, oneWay: boolean) =>
      oneWay
        ? [[from, to]]
        : [
            [from, to],
            [to, from],
          ];
    switch (line.action) {
      case 'partition': {
        for (const [f, t] of link(a, b, !!line.oneWay)) {
          this.block(f, t, line.oneWay ? 'open' : 'all');
        }
        const fault: FaultDetail = { kind: 'partition', from: a, to: b, ...oneWay(line) };
        logs.push({ peer: a, kind: 'partitioned', fault }, { peer: b, kind: 'partitioned', fault });
        break;
      }
      case 'isolate':
        for (const p of others(a)) {
          this.block(a, p, 'all');
          this.block(p, a, 'all');
        }
        logs.push({ peer: a, kind: 'isolated', fault: { kind: 'isolate', peer: a } });
        break;
      case 'loss': {
        const percent = line.lossPercent!;
        const links = b === undefined ? others(a).map((p) => [a, p]) : link(a, b, !!line.oneWay);
        for (const [f, t] of links) this.loss.set(key(f, t), percent);
        const fault: FaultDetail =
          b === undefined
            ? { kind: 'loss', peer: a, percent }
            : { kind: 'loss', from: a, to: b, ...oneWay(line), percent };
        for (const p of b === undefined ? [a] : [a, b])
          logs.push({ peer: p, kind: 'lossy', fault });
        break;
      }
      case 'rate':
        this.rates.set(a, line.rate!);
        logs.push({
          peer: a,
          kind: 'throttled',
          fault: { kind: 'rate', peer: a, rate: line.rate!.text },
        });
        break;
      case 'heal': {
        const touched = new Set<string>();
        const drop = (test: (from: string, to: string) => boolean) => {
          for (const m of [this.blocked, this.loss]) {
            for (const k of [...m.keys()]) {
              const [f, t] = k.split('\0');
              if (!test(f, t)) continue;
              m.delete(k);
              touched.add(f).add(t);
            }
          }
        };
        let fault: FaultDetail;
        if (a === undefined) {
          drop(() => true);
          for (const p of this.rates.keys()) touched.add(p);
          this.rates.clear();
          fault = { kind: 'heal' };
        } else if (b === undefined) {
          drop((f, t) => f === a || t === a);
          if (this.rates.delete(a)) touched.add(a);
          fault = { kind: 'heal', peer: a };
        } else {
          drop((f, t) => (f === a && t === b) || (!line.oneWay && f === b && t === a));
          fault = { kind: 'heal', from: a, to: b, ...oneWay(line) };
        }
        for (const p of this.peers)
          if (touched.has(p)) logs.push({ peer: p, kind: 'healed', fault });
        break;
      }
      default:
        throw new Error(`@${line.action} is not a network fault`);
    }
    return this.diff(before, logs);
  }

  private snapshot() {
    return {
      egress: new Map(this.peers.map((p) => [p, JSON.stringify(this.egress(p))])),
      rates: new Map(this.rates),
      cut: new Set(this.cutPairs()),
    };
  }

  /** Unordered pairs fully cut both ways, as `a\0b` with a before b in script order. */
  private cutPairs(): string[] {
    const out: string[] = [];
    this.peers.forEach((p, i) => {
      for (const q of this.peers.slice(i + 1)) {
        if (this.blocked.get(key(p, q)) === 'all' && this.blocked.get(key(q, p)) === 'all') {
          out.push(key(p, q));
        }
      }
    });
    return out;
  }

  private diff(before: ReturnType<NetFaults['snapshot']>, logs: FaultLog[]): FaultChange {
    const rules = new Set(
      this.peers.filter((p) => before.egress.get(p) !== JSON.stringify(this.egress(p))),
    );
    const rates = new Set<string>();
    for (const p of this.peers) if (before.rates.get(p) !== this.rates.get(p)) rates.add(p);
    const now = new Set(this.cutPairs());
    const pair = (k: string) => k.split('\0') as [string, string];
    return {
      rules,
      rates,
      cut: [...now].filter((k) => !before.cut.has(k)).map(pair),
      uncut: [...before.cut].filter((k) => !now.has(k)).map(pair),
      logs,
    };
  }
}

function oneWay(line: RunnerLine): { oneWay?: true } {
  return line.oneWay ? { oneWay: true } : {};
}
