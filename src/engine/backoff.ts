/**
 * Exponential backoff with full jitter (delay drawn uniformly from [0, min(max, base·2^(n-1))]): retries of
 * many tasks that failed together spread out instead of arriving at the agent in one wave.
 */
export function retryDelayMs(
  failedAttempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(random() * ceiling);
}
