/** Base class of every error the testkit throws; `code` is stable, the message is for humans. */
export class TestkitError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A test script, filter or duration could not be parsed; `line` is 1-based when known. */
export class ScriptSyntaxError extends TestkitError {
  readonly line: number | undefined;
  readonly file: string | undefined;
  constructor(message: string, line?: number, file?: string) {
    const where = line === undefined ? '' : `${file ?? 'script'}:${line}: `;
    super('SCRIPT_SYNTAX', `${where}${message}`);
    this.line = line;
    this.file = file;
  }
}

/** A request body or query of the test server protocol was malformed. */
export class BadRequestError extends TestkitError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}

/** The request was well-formed but does not fit the run's state (stale line, unknown run). */
export class ConflictError extends TestkitError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** The test server could not be reached or answered with an error. */
export class TestServerError extends TestkitError {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super('TEST_SERVER', message);
    this.status = status;
  }
}
