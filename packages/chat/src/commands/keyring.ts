/**
 * The `keyring` console commands: list, install, use and remove memberlist encryption keys, and
 * switch the gossip verify flags, so encryption can be rolled out and keys rotated in a live
 * cluster without downtime.
 *
 * Where the changes land: before `/memberlistcreate` the keys wait in `peer.keyring` and the verify
 * flags in the peer's Go configuration; once the node runs, they are changed on the live
 * memberlist configuration, which the engine reads for every datagram and stream (as Go's
 * memberlist reads its `Config`). Keys are shown as fingerprints so they do not end up in
 * scrollback, logs or screen shares by accident.
 */
import { createHash } from 'node:crypto';
import { type CommandSpec, type LineWriter, UsageError } from '@isopeer/console';
import { Keyring, VALID_KEY_LENGTHS } from '@isopeer/memberlist';
import type { ChatPeer } from '../chat-peer.js';
import { ChatError } from '../errors.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a key given as standard, padded base64 (Go's `base64.StdEncoding`, which memberlist's
 * tools and config files use) and checks it is an AES key. Throws `CHAT_ARGS` saying what is wrong.
 */
export function parseKeyBase64(text: string): Uint8Array {
  if (text === '' || !BASE64.test(text)) {
    throw new ChatError(
      'CHAT_ARGS',
      `${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)} is not a base64 key (standard alphabet A-Z a-z 0-9 + /, padded with =)`,
    );
  }
  const key = new Uint8Array(Buffer.from(text, 'base64'));
  if (!VALID_KEY_LENGTHS.includes(key.length)) {
    throw new ChatError(
      'CHAT_ARGS',
      `the key is ${key.length} bytes; AES keys are 16, 24 or 32 bytes (AES-128/192/256)`,
    );
  }
  return key;
}

/** A short, stable name for a key that does not reveal it: the first 8 bytes of its SHA-256. */
export function keyFingerprint(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

const cipherName = (key: Uint8Array) => `AES-${key.length * 8}`;

export interface VerifyFlags {
  incoming: boolean;
  outgoing: boolean;
}

function verifyFlags(peer: ChatPeer): VerifyFlags {
  if (peer.memberlist) return peer.memberlist.gossipVerify;
  const go = peer.currentGoConfig();
  return { incoming: go.GossipVerifyIncoming, outgoing: go.GossipVerifyOutgoing };
}

const onOff = (b: boolean) => (b ? 'on' : 'off');

function describeState(peer: ChatPeer): string {
  const kr = peer.keyring;
  const v = verifyFlags(peer);
  const where = peer.memberlist ? '' : ' (for the next /memberlistcreate)';
  const enc = !kr
    ? 'encryption off'
    : !v.outgoing && !v.incoming
      ? 'keys installed, nothing encrypted or required yet'
      : `encrypting ${v.outgoing ? 'outgoing' : 'nothing outgoing'}, ${v.incoming ? 'requiring' : 'not requiring'} encrypted input`;
  return `${kr?.keys.length ?? 0} key(s)${where}; ${enc}; verify incoming ${onOff(v.incoming)}, outgoing ${onOff(v.outgoing)}`;
}

function listKeys(peer: ChatPeer, out: LineWriter, show: boolean): void {
  out.text(describeState(peer));
  const kr = peer.keyring;
  if (!kr) return;
  kr.keys.forEach((k, i) => {
    const id = show ? Buffer.from(k).toString('base64') : keyFingerprint(k);
    out.text(`  ${i === 0 ? '*' : ' '} ${id}  ${cipherName(k)}${i === 0 ? '  primary' : ''}`);
  });
}

/**
 * Installs a key. On a running node without encryption the first key creates its keyring; the
 * verify flags are then switched off, because with them on the node would at once encrypt
 * everything and drop every plain packet — cutting itself off from members that have no key yet.
 */
export function installKey(peer: ChatPeer, key: Uint8Array, out: LineWriter): void {
  const live = peer.memberlist;
  const kr = peer.keyring;
  const fp = keyFingerprint(key);
  if (kr?.has(key)) {
    out.info(`key ${fp} is already installed`);
    return;
  }
  if (kr) kr.addKey(key);
  else if (!live) peer.useKeyring(new Keyring([key]));
  else {
    const v = verifyFlags(peer);
    // Flags first: the keyring turns encryption on for the very next packet.
    if (v.incoming || v.outgoing) peer.setGossipVerify({ incoming: false, outgoing: false });
    peer.useKeyring(new Keyring([key]));
    if (v.incoming || v.outgoing) {
      out.warn(
        'this node ran without encryption: verify incoming and outgoing are now off, so it keeps ' +
          'talking to members without the key. Once every member has it: /keyringverify outgoing on ' +
          'on every member, then /keyringverify incoming on on every member',
      );
    }
  }
  const now = peer.keyring!;
  out.text(
    `installed key ${fp} (${cipherName(key)}); ${now.keys.length} key(s), primary ${keyFingerprint(now.primaryKey)}`,
  );
}

function requireInstalled(peer: ChatPeer, key: Uint8Array): Keyring {
  const kr = peer.keyring;
  if (!kr?.has(key)) {
    throw new ChatError(
      'CHAT_ARGS',
      `key ${keyFingerprint(key)} is not installed (/keyring lists the installed keys; /keyringinstall adds one)`,
    );
  }
  return kr;
}

export function keyringCommands(peer: ChatPeer): CommandSpec[] {
  const keyArg = (args: string[]) => parseKeyBase64(args[0]!);
  return [
    {
      name: 'keyring',
      group: 'keyring',
      usage: 'keyring [list] [--show]',
      description:
        'list the encryption keys (fingerprints; --show prints them in base64), primary first',
      maxArgs: 2,
      run(args, { out }) {
        const rest = args[0] === 'list' ? args.slice(1) : args;
        if (rest.length > 1 || (rest.length === 1 && rest[0] !== '--show')) {
          throw new UsageError(`unexpected ${JSON.stringify(rest.find((a) => a !== '--show'))}`);
        }
        listKeys(peer, out, rest[0] === '--show');
      },
      complete: (i, partial) =>
        (i === 0 ? ['list', '--show'] : ['--show']).filter((x) => x.startsWith(partial)),
    },
    {
      name: 'keyringinstall',
      group: 'keyring',
      usage: 'keyringinstall <base64>',
      description: 'add a key for decryption (16, 24 or 32 bytes); /keyringuse makes it primary',
      minArgs: 1,
      maxArgs: 1,
      run(args, { out }) {
        installKey(peer, keyArg(args), out);
      },
    },
    {
      name: 'keyringuse',
      group: 'keyring',
      usage: 'keyringuse <base64>',
      description: 'make an installed key the primary one (it encrypts everything sent)',
      minArgs: 1,
      maxArgs: 1,
      run(args, { out }) {
        const key = keyArg(args);
        requireInstalled(peer, key).useKey(key);
        out.text(`primary key is now ${keyFingerprint(key)} (${cipherName(key)})`);
      },
    },
    {
      name: 'keyringremove',
      group: 'keyring',
      usage: 'keyringremove <base64>',
      description: 'remove a key that is not the primary one',
      minArgs: 1,
      maxArgs: 1,
      run(args, { out }) {
        const key = keyArg(args);
        const kr = requireInstalled(peer, key);
        if (keyFingerprint(kr.primaryKey) === keyFingerprint(key)) {
          throw new ChatError(
            'CHAT_ARGS',
            `key ${keyFingerprint(key)} is the primary key and cannot be removed: make another key primary with /keyringuse first`,
          );
        }
        kr.removeKey(key);
        out.text(`removed key ${keyFingerprint(key)}; ${kr.keys.length} key(s) left`);
      },
    },
    {
      name: 'keyringverify',
      group: 'keyring',
      usage: 'keyringverify [incoming|outgoing on|off]',
      description:
        'show or switch the gossip verify flags (outgoing: encrypt what is sent; incoming: drop unencrypted input)',
      maxArgs: 2,
      run(args, { out }) {
        if (args.length === 1) throw new UsageError('give a direction and on or off, or nothing');
        if (args.length === 2) {
          const [dir, mode] = args as [string, string];
          if (dir !== 'incoming' && dir !== 'outgoing') {
            throw new UsageError(`expected incoming or outgoing, got ${JSON.stringify(dir)}`);
          }
          if (mode !== 'on' && mode !== 'off') {
            throw new UsageError(`expected on or off, got ${JSON.stringify(mode)}`);
          }
          peer.setGossipVerify({ [dir]: mode === 'on' });
          if (mode === 'on' && !peer.keyring) {
            out.warn('no keys installed: nothing is encrypted or checked until /keyringinstall');
          }
        }
        out.text(describeState(peer));
      },
      complete: (i, partial) =>
        (i === 0 ? ['incoming', 'outgoing'] : i === 1 ? ['on', 'off'] : []).filter((x) =>
          x.startsWith(partial),
        ),
    },
  ];
}
