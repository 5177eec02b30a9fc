/**
 * The single error type thrown by every decoder and encoder in the codec. Callers (the packet
 * and stream handlers) drop and count by `code`, so each code names one class of failure.
 */
export type CodecErrorCode =
  /** The input ended before the value was complete; a stream reader may wait for more bytes. */
  | 'truncated'
  /** The bytes are complete but do not form what was expected. */
  | 'malformed'
  /** A message type byte this implementation (and Go memberlist 0.2.2) does not know. */
  | 'unknown-type'
  | 'crc-mismatch'
  | 'decrypt-failed'
  /** A length or size limit was exceeded (compound parts, decompressed size, stream frame). */
  | 'too-large'
  | 'bad-compression'
  /** The input is well-formed but refused by configuration (e.g. plaintext when encryption is required). */
  | 'policy'
  /** Refused by the label check (memberlist ≥ 0.3 labels); thrown as `LabelError`, see label.ts. */
  | 'label';

export class CodecError extends Error {
  readonly code: CodecErrorCode;

  constructor(code: CodecErrorCode, message: string) {
    super(message);
    this.name = 'CodecError';
    this.code = code;
  }
}

export function isCodecError(e: unknown): e is CodecError {
  return e instanceof CodecError;
}
