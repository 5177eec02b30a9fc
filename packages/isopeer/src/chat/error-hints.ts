// What to type next, for the chat errors that mean "a step is missing". The chat package says
// what is wrong; which command or flag fixes it is this program's business.
import { ChatError, type ChatErrorCode } from '@isopeer/chat';

const HINTS: Partial<Record<ChatErrorCode, string>> = {
  CHAT_NOT_CONFIGURED: 'run /memberlistconfigure',
  CHAT_NO_MEMBERLIST: 'run /memberlistcreate',
  CHAT_MEMBERLIST_EXISTS: 'run /memberlistdelete first',
  CHAT_NO_BROADCASTS: 'run /memberliststart',
  CHAT_NOT_STARTED: 'run /init (or /chatstart)',
  CHAT_NO_BOOTSTRAP: 'start the peer with --bootstrap URL or BOOTSTRAP_DATA_SERVER',
  CHAT_UNKNOWN_MEMBER: '/chatmembers lists them',
};

/** The console's `errorHint` for the chat peer. */
export function chatErrorHint(err: unknown): string | undefined {
  return err instanceof ChatError ? HINTS[err.code] : undefined;
}
