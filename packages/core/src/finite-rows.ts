/**
 * The end-of-run finite check of a whole chain, folded into the read of its result: the loop reads the final
 * states once (the read a caller makes next is then served from the cached values on webgpu, and costs nothing
 * on the host backends) and counts the non-finite rows on the host, instead of running device ops and a second
 * read-back. Large states are checked with one reduction instead (see {@link HOST_FINITE_SCAN_MAX}).
 * Internal module.
 * @module
 */

/**
 * Final states of at most this many elements (16 MiB of float32) are read and scanned on the host; larger ones
 * are checked with one device sum (non-finite iff some entry is, or the sum overflows) and counted per chain only
 * when that sum is not finite.
 */
export const HOST_FINITE_SCAN_MAX = 2 ** 22;

/** Number of rows of the row-major `[b, d]` array `data` that hold NaN or ±Infinity. */
export function countNonFiniteRows(data: ArrayLike<number>, b: number, d: number): number {
  let chains = 0;
  for (let r = 0; r < b; r++) {
    const o = r * d;
    // x − x is 0 for finite x and NaN for NaN and ±Infinity: one comparison per row.
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = data[o + j]!;
      s += v - v;
    }
    if (s !== 0) chains++;
  }
  return chains;
}
