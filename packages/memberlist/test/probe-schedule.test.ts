// Probe order and failure detection at N = 20 (issue 17, part 3), on the in-memory transport and
// the virtual clock. Every node probes one member per interval; with probe slots every member is
// probed by someone in every interval, so a dead node is found within about one interval
// instead of whenever the first of 19 independent shuffled round-robins reaches it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { converged, simCluster } from './helpers.js';

describe('probe schedule (virtual clock)', () => {
  it('every member is probed at least once in any 2 intervals; each prober cycles through all', async () => {
    const n = 20;
    const probes: { by: number; target: string; at: number }[] = [];
    let recording = false;
    const c = await simCluster(n, {
      seed: 21,
      hooks: (i) => ({
        ping: {
          notifyPingComplete: (node) => {
            if (recording) probes.push({ by: i, target: node.name, at: c.clock.now() });
          },
        },
      }),
    });
    try {
      assert.ok(await c.runUntil(() => converged(c.nodes, n), 10_000), 'converged');
      await c.clock.advance(3_000);
      const start = c.clock.now();
      recording = true;
      await c.clock.advance(40_000);
      const end = c.clock.now();
      for (let t = 0; t < n; t++) {
        const times = probes.filter((p) => p.target === `n${t}`).map((p) => p.at);
        const gaps = [
          times[0] - start,
          ...times.slice(1).map((x, k) => x - times[k]),
          end - times.at(-1)!,
        ];
        assert.ok(Math.max(...gaps) <= 2_000, `n${t} went ${Math.max(...gaps)} ms unprobed`);
      }
      for (let by = 0; by < n; by++) {
        const seq = probes.filter((p) => p.by === by).map((p) => p.target);
        assert.ok(seq.length >= 38, `n${by} probed ${seq.length} times in 40 s`);
        for (let k = 0; k + n - 1 <= seq.length; k++) {
          const window = new Set(seq.slice(k, k + n - 1));
          assert.equal(window.size, n - 1, `n${by}: probes ${k}…${k + n - 2} cover all others`);
        }
      }
    } finally {
      await c.shutdown();
    }
  });

  it('a stopped node is declared dead by all 19 others within 6.5 s in every run', async () => {
    // Lifeguard's floor at N = 20 is 3.9 s of suspicion after the first failed probe; before
    // probe slots the first probe alone took over 3 s in some of these runs (worst 7.7 s).
    const n = 20;
    const worst: number[] = [];
    for (let seed = 1; seed <= 16; seed++) {
      const c = await simCluster(n, { seed });
      try {
        assert.ok(await c.runUntil(() => converged(c.nodes, n), 10_000), 'converged');
        await c.clock.advance(2_000 + 700 * seed);
        const victim = c.nodes[1 + (seed % (n - 1))];
        const name = victim.localNode().name;
        const others = c.nodes.filter((m) => m !== victim);
        const t0 = c.clock.now();
        await victim.shutdown();
        const gone = () => others.every((m) => !m.members().some((x) => x.name === name));
        assert.ok(await c.runUntil(gone, 30_000), `seed ${seed}: detected`);
        worst.push(c.clock.now() - t0);
      } finally {
        await c.shutdown();
      }
    }
    assert.ok(Math.max(...worst) <= 6_500, `detection times ${worst.join(', ')} ms`);
  });
});
