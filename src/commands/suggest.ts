import { closest, distance } from 'fastest-levenshtein';

/**
 * The names closest to a mistyped one, best first: every name within an edit distance that grows with the
 * name's length (2 for short names, a third of the length for long ones), and at least the single closest
 * one so the user always gets a hint. At most 5, so a large command tree does not flood the error.
 */
export function suggestNames(wanted: string, names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  const near = names
    .map((n) => ({ n, d: Math.min(distance(n, wanted), lastSegmentDistance(n, wanted)) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .map((x) => x.n);
  return (near.length > 0 ? near : [closest(wanted, [...names])]).slice(0, 5);
}

/** `/review` typed for `/git:review`: compare without the namespace too. */
function lastSegmentDistance(name: string, wanted: string): number {
  const last = name.slice(name.lastIndexOf(':') + 1);
  return last === name ? Number.POSITIVE_INFINITY : distance(last, wanted);
}
