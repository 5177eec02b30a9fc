/**
 * What the parts of a chat peer (chat members, replicated items, bootstrap duty, rejoin) share:
 * its identity, where it reports, and the memberlist node once it exists. The peer builds one
 * and hands it to each part; it is not part of the package's API.
 */
import type { Console, LineWriter, SubLogger } from '@isopeer/console';
import type { Memberlist, TransmitLimitedQueue } from '@isopeer/memberlist';
import { ChatError } from './errors.js';
import type { MemberCache } from './member-cache.js';

export interface PeerContext {
  /** The chat name people see (`alice`). */
  readonly name: string;
  /** Bootstrap id (a UUID), also the end of the node name. */
  readonly id: string;
  readonly nodeName: string;
  readonly console: Console;
  /** Lines a person should see. */
  readonly out: LineWriter;
  /** Diagnostics (the `chat` logger). */
  readonly log: SubLogger;
  /** Recently seen members, when the peer keeps a cache file. */
  readonly cache: MemberCache | undefined;
  /** The memberlist node, once created. */
  memberlist(): Memberlist | undefined;
  /** The broadcast queue carrying chat records and items, once started. */
  queue(): TransmitLimitedQueue | undefined;
  /** True once `quit` or `close` began: background duties stop. */
  stopping(): boolean;
  /** True once `close` began: nothing more is reported. */
  closed(): boolean;
}

export function requireMemberlist(ctx: PeerContext): Memberlist {
  const ml = ctx.memberlist();
  if (!ml) throw new ChatError('CHAT_NO_MEMBERLIST', 'no memberlist yet');
  return ml;
}

export function requireQueue(ctx: PeerContext): TransmitLimitedQueue {
  const q = ctx.queue();
  if (!q) throw new ChatError('CHAT_NO_BROADCASTS', 'broadcasting is not started');
  return q;
}
