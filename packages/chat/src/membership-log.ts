/**
 * Log records of what happens to the membership, from memberlist's events: members joining,
 * leaving and failing, metadata updates, suspicions, refutations, and input refused for its
 * label. They go to the `memberlist` subsystem at info level (warn for refused input), so a
 * peer's log file says by default why the group looks the way it does; `/loglevel memberlist
 * warn` quiets them.
 */
import type { SubLogger } from '@isopeer/console';
import type { Memberlist, MemberNode } from '@isopeer/memberlist';
import { displayNameOf } from './peer-name.js';

function nodeFields(n: MemberNode): Record<string, unknown> {
  return {
    name: displayNameOf(n.name, n.meta),
    node: n.name,
    addr: `${n.addr}:${n.port}`,
    incarnation: n.incarnation,
  };
}

/** Logs `ml`'s membership events to `log`. */
export function logMembership(ml: Memberlist, log: SubLogger): void {
  ml.on('join', (n) => log.info('member joined', nodeFields(n)));
  ml.on('leave', (n) =>
    log.info(n.state === 'left' ? 'member left' : 'member failed', {
      ...nodeFields(n),
      state: n.state,
    }),
  );
  ml.on('update', (n) => log.info('member updated its metadata', nodeFields(n)));
  ml.on('suspect', (e) => log.info('member suspected', e));
  ml.on('refute', (e) => log.info('refuted a suspicion of this node', e));
  ml.on('labelRefused', (r) => log.warn('input refused for its label', { ...r }));
}
