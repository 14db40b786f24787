/**
 * Waiting with a deadline: races a promise against a timer.
 *
 * Owns that one helper, shared by shutdown (`app.ts`) and the worker
 * supervisor (`workers.ts`). It never rejects and leaves no timer behind.
 */

/** True if `promise` settles (either way) within `ms`, false if the time ran out first. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const { promise: timedOut, resolve } = Promise.withResolvers<false>();
  const timer = setTimeout(() => resolve(false), ms);
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timedOut]);
  clearTimeout(timer);
  return result;
}
