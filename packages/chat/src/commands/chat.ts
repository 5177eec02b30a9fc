/** The `chat` group: the chat listener, members, pings, and sending lines. */
import {
  type CommandContext,
  type CommandSpec,
  formatTable,
  type LineWriter,
  type TableColumn,
} from '@isopeer/console';
import { chatLine, sanitizeLine } from '../chat-line.js';
import type { Delivery } from '../chat-members.js';
import type { ChatPeer } from '../chat-peer.js';
import { ChatError } from '../errors.js';
import { encodeLocalState, msgTypeName } from '../member-record.js';
import { isoSeconds, jsonFlag, jsonOption } from './output.js';

const CHAT_MEMBER_COLUMNS: TableColumn[] = [
  { header: 'Name' },
  { header: 'Node' },
  { header: 'Chat address' },
  { header: 'Record' },
  { header: 'Chatting since (UTC)' },
];

function reportDelivery(out: LineWriter, d: Delivery): void {
  for (const f of d.failed) out.warn(`could not deliver to ${f.name}: ${f.error}`);
}

/** Sends a chat line and shows it locally the way the receivers see it. */
export async function sendAndEcho(
  peer: ChatPeer,
  text: string,
  ctx: Pick<CommandContext, 'out'>,
): Promise<void> {
  const d = await peer.sendMessage(text);
  ctx.out.text(chatLine(peer.name, sanitizeLine(text)).trimEnd());
  reportDelivery(ctx.out, d);
}

export function chatGroupCommands(peer: ChatPeer): CommandSpec[] {
  const memberNames = (_i: number, partial: string) =>
    [...peer.members.keys()]
      .filter((n) => n !== peer.nodeName)
      .flatMap((n) => [peer.displayName(n), n])
      .filter((n, i, all) => n.startsWith(partial) && all.indexOf(n) === i);

  return [
    {
      name: 'chatstart',
      group: 'chat',
      usage: 'chatstart',
      description: 'start the chat listener, announce this member and greet the others',
      maxArgs: 0,
      async run(_a, { out }) {
        const d = await peer.chatStart();
        out.text(`chat listening on ${peer.self?.sender}; greeted ${d.delivered.length} member(s)`);
        reportDelivery(out, d);
      },
    },
    {
      name: 'chatstop',
      group: 'chat',
      usage: 'chatstop',
      description: 'stop the chat listener (this member stays known)',
      maxArgs: 0,
      async run(_a, { out }) {
        const where = peer.self?.sender;
        await peer.chatStop();
        out.text(`stopped chat listener of ${JSON.stringify(where)}`);
      },
    },
    {
      name: 'chatleave',
      group: 'chat',
      usage: 'chatleave',
      description: 'leave the chat: stop listening and announce LEAVE to all members',
      maxArgs: 0,
      async run(_a, { out }) {
        await peer.chatLeave();
        out.text('left the chat');
      },
    },
    {
      name: 'chatmembers',
      group: 'chat',
      usage: 'chatmembers [--json]',
      description: 'list the known chat members (--json: their records as on the wire)',
      ...jsonOption,
      run(args, { out }) {
        if (jsonFlag(args)) {
          // The push/pull state exactly as Go's json.Marshal writes it: {node name: record}.
          out.text(Buffer.from(encodeLocalState(peer.members)).toString('utf8'));
          return;
        }
        const names = [...peer.members.keys()].sort();
        out.text(`${names.length} chat member(s)`);
        const rows = names.map((n) => {
          const r = peer.members.get(n)!;
          return [
            peer.displayName(n),
            n,
            r.sender,
            msgTypeName(r.msgType),
            r.timestamp ? isoSeconds(r.timestamp.seconds) : '',
          ];
        });
        for (const line of formatTable(CHAT_MEMBER_COLUMNS, rows)) out.text(line);
      },
    },
    {
      name: 'chatping',
      group: 'chat',
      usage: 'chatping',
      description: "check every member's chat listener with an empty connection",
      maxArgs: 0,
      async run(_a, { out }) {
        const results = await peer.pingMembers();
        if (results.length === 0) out.info('no other chat member');
        for (const r of results) {
          if (r.error) out.warn(`${r.name}: unreachable (${r.error})`);
          else out.text(`${r.name}: reachable in ${r.ms!.toFixed(1)} ms`);
        }
        return results.every((r) => !r.error);
      },
    },
    {
      name: 'chatmemberping',
      group: 'chat',
      usage: 'chatmemberping <member>',
      description: 'ping one member over gossip (PING record) and over TCP',
      minArgs: 1,
      maxArgs: 1,
      async run(args, { out }) {
        const m = peer.findMember(args[0]!);
        if (m.name === peer.nodeName) throw new ChatError('CHAT_ARGS', 'that is this peer');
        peer.gossipPing(m);
        const results = await peer.pingMembers();
        const r = results.find((x) => x.name === peer.displayName(m.name));
        if (r?.error) {
          out.warn(`${r.name}: chat listener unreachable (${r.error})`);
          return false;
        }
        out.text(
          `${peer.displayName(m.name)}: chat listener reachable in ${r?.ms?.toFixed(1)} ms; gossip ping sent`,
        );
      },
      complete: memberNames,
    },
    {
      name: 'msg',
      group: 'chat',
      usage: 'msg <text>',
      description: 'send a line to every chat member (a line without "/" does the same)',
      minArgs: 1,
      async run(_a, ctx) {
        await sendAndEcho(peer, ctx.rawArgs, ctx);
      },
    },
  ];
}
