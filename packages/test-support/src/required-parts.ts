/**
 * The skip contract of every isopeer test suite, in one place.
 *
 * Tests use real parts (Go, tmux, Chromium, curl, PostgreSQL, /dev/full, an IPv6 loopback, the
 * shared Go vectors). On a developer machine a missing part skips the tests that need it, with a
 * reason; under CI a missing part is a failure, never a skip, because a green CI run must mean
 * that everything ran. `scripts/run-tests.mjs` backs this up by failing a CI run that reports
 * any skipped or todo test at all.
 */

/**
 * Whether the environment says "this is CI": `CI` set to anything but empty, `0` or `false`
 * (case and surrounding blanks ignored). CI services disagree on the value (`true`, `1`,
 * `True`...); comparing with `'true'` alone let `CI=1` runs skip silently.
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/** A part the tests need is missing while running under CI. */
export class RequiredPartMissingError extends Error {
  readonly code = 'REQUIRED_PART_MISSING';
  constructor(readonly reason: string) {
    super(`${reason} (a required test part: CI is set, so this is a failure, not a skip)`);
    this.name = 'RequiredPartMissingError';
  }
}

/**
 * For a `describe`/`test` `skip` option or a file's top level: `false` when nothing is missing
 * (`reason` is null or undefined); under CI throws `RequiredPartMissingError`; otherwise returns
 * the reason as a skip message.
 */
export function partMissing(
  reason: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): false | string {
  if (reason === null || reason === undefined) return false;
  if (isCI(env)) throw new RequiredPartMissingError(reason);
  return `SKIPPED: ${reason}`;
}

/**
 * Inside a running test: returns false when nothing is missing; under CI throws (the test
 * fails); otherwise marks the test skipped with the reason and returns true, so the caller
 * returns at once: `if (skipIfMissing(t, reason)) return;`.
 */
export function skipIfMissing(
  t: { skip(message?: string): void },
  reason: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const skip = partMissing(reason, env);
  if (skip === false) return false;
  t.skip(skip);
  return true;
}
