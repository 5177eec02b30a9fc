/*
 * The answer both the bootstrap service and the HTTP/1.1 layer deal in: a status, a content type
 * and a small text body. Defined here once so the service, the Node server and the Cloud
 * Functions adapter agree on it without depending on each other.
 */

export interface ServiceResponse {
  status: number;
  contentType: string;
  body: string;
  /** Extra header fields; names and values must not contain CR or LF. */
  headers?: Record<string, string>;
}

export const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** A refusal or error: one line of text saying what was wrong, never sniffed as HTML. */
export function refusal(
  status: number,
  message: string,
  headers?: Record<string, string>,
): ServiceResponse {
  return {
    status,
    contentType: TEXT_PLAIN,
    body: `${message}\n`,
    headers: { 'x-content-type-options': 'nosniff', ...headers },
  };
}
