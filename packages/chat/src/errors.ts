/**
 * Error codes thrown by the chat package; callers branch on `code`, people read `message`. The
 * messages say what is wrong, never which command to type next: the application that offers the
 * commands adds that (the `isopeer` CLI maps codes to hints).
 */
export type ChatErrorCode =
  | 'CHAT_PROTOCOL' // bytes from the network that are not a valid chat-layer message
  | 'CHAT_STATE' // a step run in the wrong state (e.g. the chat listener started twice)
  | 'CHAT_NOT_CONFIGURED' // the memberlist node is asked for before it has a configuration
  | 'CHAT_NO_MEMBERLIST' // the memberlist node is needed and not created yet
  | 'CHAT_MEMBERLIST_EXISTS' // the memberlist node is created a second time
  | 'CHAT_NO_BROADCASTS' // gossip is needed and the broadcast queue is not started
  | 'CHAT_NOT_STARTED' // the chat is needed and not started
  | 'CHAT_NO_BOOTSTRAP' // a bootstrap request without a bootstrap service
  | 'CHAT_UNKNOWN_MEMBER' // no chat member by the given name
  | 'CHAT_ARGS' // wrong or missing command arguments
  | 'CHAT_NETWORK' // a peer could not be reached
  | 'CHAT_BOOTSTRAP' // the bootstrap service and the local cache both failed
  | 'CHAT_CONFIG'; // an invalid memberlist configuration

export class ChatError extends Error {
  readonly code: ChatErrorCode;
  constructor(code: ChatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ChatError';
  }
}

/** Thrown by the decoders when untrusted bytes are not what the chat layer speaks. */
export class ChatProtocolError extends ChatError {
  constructor(message: string) {
    super('CHAT_PROTOCOL', message);
    this.name = 'ChatProtocolError';
  }
}
