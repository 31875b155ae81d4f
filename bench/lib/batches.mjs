// Submitting workflows as the scenarios do: a batch at a time, or as `offer` asks. Touches no Hive module, so a
// run measuring another build (cpu-per-workflow.mjs) takes it from this checkout.

/** Workflows per submission call in scenario 1 and the soak. */
export const BATCH = 100;

/** Submits `n` workflows one batch after another through `submit(count, offset)`; their IDs, in order. */
export async function inBatches(n, submit) {
  const ids = [];
  for (let i = 0; i < n; i += BATCH) ids.push(...(await submit(Math.min(BATCH, n - i), i)));
  return ids;
}

/**
 * A submit function for `inBatches` and `offer`: `count` copies of `spec` through a Hive system in one call, under
 * the correlation ID `label` (with the batch's offset appended when there is one); resolves to their IDs.
 */
export function hiveSubmitter(hive, spec, label) {
  return async (count, offset) =>
    (
      await hive.submit(
        Array.from({ length: count }, () => spec),
        offset === undefined ? label : `${label}-${offset}`,
      )
    ).map((r) => r.id);
}
