/**
 * Polls `cond` until it gives a truthy value, and resolves with that value; rejects when `ms`
 * pass first, with a message saying what was awaited (`what` may be a function, to describe the
 * state at the time of failure, e.g. a screen).
 */
export async function waitUntil<T>(
  cond: () => T | undefined | false | Promise<T | undefined | false>,
  what: string | (() => string),
  ms = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
