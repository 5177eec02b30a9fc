// @isopeer/chat: the example application. Public API: the chat peer (interface + factory), its
// console commands, the bootstrap service it needs (any client with BootstrapApi's shape), chat
// names and keys, and the errors. The wire formats and the peer's parts are internal modules.
export { type BootstrapApi, isTransientBootstrapError } from './bootstrap-api.js';
export type { BootstrapJoinResult } from './bootstrap-duty.js';
export type { Delivery } from './chat-members.js';
export type {
  ChatPeer,
  ChatPeerEvents,
  ChatPeerOptions,
  TestPartitions,
} from './chat-peer.js';
export type { ChatListenerLimits } from './chat-transport.js';
export { chatCommands, registerChatPeer } from './commands/index.js';
export { keyFingerprint, parseKeyBase64 } from './commands/keyring.js';
export { ChatError, type ChatErrorCode, ChatProtocolError } from './errors.js';
export type { KvAction, KvUpdate } from './kv-update.js';
export { type ChatMemberRecord, type GoTimestamp, MsgType } from './member-record.js';
export type { ConfigPreset } from './memberlist-node.js';
export { createChatPeer } from './peer.js';
export { displayNameOf, isValidChatName } from './peer-name.js';
