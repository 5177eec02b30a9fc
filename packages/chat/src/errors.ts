/** Error codes thrown by the chat package; callers branch on `code`, people read `message`. */
export type ChatErrorCode =
  | 'CHAT_PROTOCOL' // bytes from the network that are not a valid chat-layer message
  | 'CHAT_STATE' // a command run in the wrong state (e.g. memberlistjoin before memberlistcreate)
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
