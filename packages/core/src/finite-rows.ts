import { anyNonFiniteSimd } from './cpu/finite-simd.js';

/**
 * The end-of-run finite check of a whole chain, folded into the read of its result: the loop reads the final
 * states once (the read a caller makes next is then served from the cached values on webgpu, and costs nothing
 * on the host backends) and counts the non-finite rows on the host, instead of running device ops and a second
 * read-back. Large states are checked on the device instead: by the backend's `nonFiniteRows` kernel where one
 * is registered (see {@link KERNEL_FINITE_SCAN_MIN}), else by one reduction (see {@link HOST_FINITE_SCAN_MAX}).
 * Internal module.
 * @module
 */

/**
 * Final states of at most this many elements (16 MiB of float32) are read and scanned on the host; larger ones
 * are checked with one device sum (non-finite iff some entry is, or the sum overflows) and counted per chain only
 * when that sum is not finite.
 */
export const HOST_FINITE_SCAN_MAX = 2 ** 22;

/**
 * Final states of at least this many elements (2 MiB of float32) are checked with the backend's `nonFiniteRows`
 * kernel where one is registered (webgpu with `@ebm/cuda`): one dispatch and a read of a few counts, instead of a
 * read and host scan of the whole state (whose read-back and scan grow with the state, 128 MiB for 2²⁰ × 32,
 * while the count's round trip stays put).
 */
export const KERNEL_FINITE_SCAN_MIN = 2 ** 19;

/**
 * How the loop checks a whole chain's final states where the active backend registered `nonFiniteRows` (a switch
 * for benchmarks, through `@ebm/core/internal`; not a stable API).
 */
export interface FiniteScanPolicy {
  /** States of at least this many elements: the kernel and a read of its counts only (default {@link KERNEL_FINITE_SCAN_MIN}). */
  readonly kernelFrom: number;
  /**
   * Smaller states: read the kernel's counts together with the states (both reads in flight at once), instead of
   * scanning the read states on the host (default `false`: the host scan).
   */
  readonly kernelWithRead: boolean;
}

let policy: FiniteScanPolicy = { kernelFrom: KERNEL_FINITE_SCAN_MIN, kernelWithRead: false };

/** The current {@link FiniteScanPolicy}. */
export function finiteScanPolicy(): FiniteScanPolicy {
  return policy;
}

/** Changes the {@link FiniteScanPolicy} (fields left out are kept); returns the previous one, to restore it. */
export function setFiniteScanPolicy(next: Partial<FiniteScanPolicy>): FiniteScanPolicy {
  const prev = policy;
  policy = { ...policy, ...next };
  return prev;
}

/**
 * Whether a float32 array holds NaN or ±Infinity, from its bits: a float32 is non-finite iff its exponent
 * field (bits 23–30) is all ones, i.e. iff (w & 0x7f800000) + 0x00800000 carries into bit 31 — integer ops on
 * four independent lanes, about twice as fast as a float scan in V8 (4096×32: 0.10 vs 0.17 ms, 2-core VM).
 */
function anyNonFiniteF32(data: Float32Array): boolean {
  const u = new Int32Array(data.buffer, data.byteOffset, data.length);
  const n = u.length;
  let any = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    any |=
      ((u[i]! & 0x7f800000) + 0x00800000) |
      ((u[i + 1]! & 0x7f800000) + 0x00800000) |
      ((u[i + 2]! & 0x7f800000) + 0x00800000) |
      ((u[i + 3]! & 0x7f800000) + 0x00800000);
  }
  for (; i < n; i++) any |= (u[i]! & 0x7f800000) + 0x00800000;
  return (any & 0x80000000) !== 0;
}

/**
 * Number of rows of the row-major `[b, d]` array `data` that hold NaN or ±Infinity. A `Float32Array` (what a
 * tensor read returns) is first checked as a whole from its bits — in WebAssembly SIMD where the engine has it
 * (`cpu/finite-simd.ts`, ~4× the JS scan), else in JS; rows are counted only when something is bad.
 */
export function countNonFiniteRows(data: ArrayLike<number>, b: number, d: number): number {
  if (
    data instanceof Float32Array &&
    !(anyNonFiniteSimd(data) ?? (data.byteOffset % 4 !== 0 || anyNonFiniteF32(data)))
  )
    return 0;
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

/** Sum of the partial counts a `nonFiniteRows` kernel returned (see `finite-kernel.ts`), read on the host. */
export function sumCounts(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  return n;
}
