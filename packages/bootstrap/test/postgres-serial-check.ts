import { applyOp, type BootstrapOp } from '../src/semantics.js';
import type { BootstrapData } from '../src/types.js';

/*
 * Decides whether a set of acknowledged operations, each with the document the service answered,
 * can be explained by ONE serial execution that ends in the observed final state.
 *
 * Soundness: the search only succeeds by exhibiting such an execution, built from the shared
 * semantics (semantics.ts):
 *   - a path S0 -op1-> S1 -op2-> ... -> Sn = final, where every step applies an operation to the
 *     current state and yields exactly the document that operation answered;
 *   - every other operation answered some state Si on that path and changes nothing when applied
 *     to Si (a join when full, a leave of an absent id, ...), so it can be slotted in right after
 *     Si is reached without changing any later state.
 * Interleaving those no-ops into the path gives a serial order of ALL acknowledged operations in
 * which each one returns what the service returned, and which ends in the final state. This is
 * stronger than "the final state is that of some serial order": every intermediate answer must
 * fit too. A search that gives up (budget) reports failure, never success.
 */

export interface Observed {
  op: BootstrapOp;
  answer: BootstrapData;
}

/** Canonical text of a state: config numbers and peers sorted by id. */
export function stateKey(d: BootstrapData): string {
  const ids = Object.keys(d.Peers).sort();
  return JSON.stringify([
    d.Config.maxpeers,
    d.Config.minrefillcandidates,
    ids.map((id) => d.Peers[id]),
  ]);
}

export interface SerialResult {
  ok: boolean;
  /** Number of state-changing steps on the found path. */
  steps: number;
  /** Search nodes expanded (effort). */
  explored: number;
  reason?: string;
}

/**
 * Searches the execution depth-first. Peer records are identified by their `name`, which the
 * workloads make unique per operation; a record therefore appears in one contiguous stretch of
 * the execution: once removed it can never come back. A branch that removes a record still
 * present in some answer not yet reached is cut at once, which keeps the search near-linear.
 * Pruning only ever discards branches, so it cannot make a wrong history pass.
 */
export function findSerialOrder(
  initial: BootstrapData,
  observed: readonly Observed[],
  final: BootstrapData,
  budget = 200_000,
): SerialResult {
  const names = (d: BootstrapData) => Object.values(d.Peers).map((p) => p.name);
  const answers = observed.map((o) => stateKey(o.answer));
  const finalKey = stateKey(final);
  const n = observed.length;
  const used = new Uint8Array(n);
  // Answers still to be reached, with how many times each is reached on the current path.
  const reached = new Map<string, number>();
  for (const a of answers) reached.set(a, 0);
  // Which answers hold a record of a given name.
  const holders = new Map<string, Set<string>>();
  observed.forEach((o, i) => {
    for (const name of names(o.answer)) {
      const set = holders.get(name) ?? new Set<string>();
      set.add(answers[i]);
      holders.set(name, set);
    }
  });
  const answerNames = observed.map((o) => names(o.answer));
  const dead = new Set<string>();
  const failed = new Set<string>();
  let explored = 0;

  // Is op i a no-op on its own answer? (Then it may sit anywhere that state is reached.)
  const noOpOnAnswer = observed.map((o, i) => stateKey(applyOp(o.answer, o.op)) === answers[i]);

  const done = (): boolean => {
    for (let i = 0; i < n; i++) {
      if (!used[i] && !(noOpOnAnswer[i] && (reached.get(answers[i]) ?? 0) > 0)) return false;
    }
    return true;
  };
  const enter = (key: string, delta: number) => {
    if (reached.has(key)) reached.set(key, (reached.get(key) ?? 0) + delta);
  };

  const dfs = (state: BootstrapData, key: string, depth: number): number => {
    if (++explored > budget) return -1;
    if (key === finalKey && done()) return depth;
    const memo = `${key}|${used.join('')}`;
    if (failed.has(memo)) return -2;
    const here = new Set(names(state));
    for (let i = 0; i < n; i++) {
      if (used[i] || answers[i] === key) continue;
      // Cheap filters before applying: one operation adds at most one record and removes at
      // most one, and never revives a removed record.
      const names_ = answerNames[i];
      if (Math.abs(names_.length - here.size) > 1) continue;
      let fresh = 0;
      for (const x of names_) if (!here.has(x) && (dead.has(x) || ++fresh > 1)) break;
      if (fresh > 1 || names_.some((x) => dead.has(x))) continue;
      const next = applyOp(state, observed[i].op);
      const nextKey = stateKey(next);
      if (nextKey !== answers[i]) continue;
      const nextNames = new Set(answerNames[i]);
      const dying = [...here].filter((x) => !nextNames.has(x));
      // Cut: a record removed now must not be needed by an answer not reached yet.
      const needed = dying.some((x) =>
        [...(holders.get(x) ?? [])].some((a) => a !== key && (reached.get(a) ?? 0) === 0),
      );
      if (needed) continue;
      for (const x of dying) dead.add(x);
      used[i] = 1;
      enter(nextKey, 1);
      const r = dfs(next, nextKey, depth + 1);
      enter(nextKey, -1);
      used[i] = 0;
      for (const x of dying) dead.delete(x);
      if (r >= 0 || r === -1) return r;
    }
    failed.add(memo);
    return -2;
  };

  const startKey = stateKey(initial);
  enter(startKey, 1);
  const r = dfs(initial, startKey, 0);
  if (r >= 0) return { ok: true, steps: r, explored };
  return {
    ok: false,
    steps: 0,
    explored,
    reason:
      r === -1
        ? `search budget of ${budget} nodes exhausted`
        : 'no serial order explains the answers',
  };
}
