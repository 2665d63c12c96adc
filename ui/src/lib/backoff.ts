/* backoff: reconnect delays. Pure. */

/* attempt 0 -> 500 ms, 1 -> 1 s, 2 -> 2 s, 3 -> 4 s, then 5 s. */
export function backoffDelay(attempt: number, baseMs = 500, maxMs = 5000): number {
  if (!(attempt >= 0)) attempt = 0;
  const d = baseMs * Math.pow(2, Math.min(attempt, 20));
  return Math.min(d, maxMs);
}
