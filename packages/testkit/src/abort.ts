/**
 * An abort signal that fires after `ms` or when `parent` aborts. Plain timer and controller on
 * purpose: on Node 20 a signal made by AbortSignal.any() over AbortSignal.timeout() can lose
 * its timeout to garbage collection and never fire. Call `clear()` when done.
 */
export function deadlineSignal(
  ms: number,
  parent?: AbortSignal,
): { signal: AbortSignal; timedOut(): boolean; clear(): void } {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new Error(`timed out after ${ms} ms`));
  }, ms);
  const onParent = () => ctl.abort(parent?.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
