/**
 * A 1-D density p(x) ∝ exp(−u(x)) on [lo, hi], tabulated once with Simpson's rule: its normaliser
 * Z = ∫exp(−u), its moments and its inverse CDF (linear within each cell). With 2·10⁵ cells the CDF error is
 * far below float32 resolution for the smooth wells used here; `lo`/`hi` are chosen so that the mass outside
 * is negligible (< e^{−600} relative).
 */
export class Tabulated1D {
  readonly lo: number;
  readonly hi: number;
  readonly cells: number;
  /** Cumulative integral of exp(−u) at the cell edges (cdf[0] = 0, cdf[cells] = Z). */
  readonly cdf: Float64Array;
  /** Z = ∫exp(−u(x))dx over [lo, hi]. */
  readonly z: number;
  /** E[x] and E[x²] under p. */
  readonly mean: number;
  readonly secondMoment: number;

  constructor(u: (x: number) => number, lo: number, hi: number, cells = 200_000) {
    this.lo = lo;
    this.hi = hi;
    this.cells = cells;
    const h = (hi - lo) / cells;
    const cdf = new Float64Array(cells + 1);
    let m1 = 0;
    let m2 = 0;
    let prevX = lo;
    let prev = Math.exp(-u(lo));
    for (let i = 1; i <= cells; i++) {
      const midX = prevX + h / 2;
      const curX = lo + i * h;
      const mid = Math.exp(-u(midX));
      const cur = Math.exp(-u(curX));
      cdf[i] = cdf[i - 1]! + (h / 6) * (prev + 4 * mid + cur);
      m1 += (h / 6) * (prevX * prev + 4 * midX * mid + curX * cur);
      m2 += (h / 6) * (prevX * prevX * prev + 4 * midX * midX * mid + curX * curX * cur);
      prev = cur;
      prevX = curX;
    }
    this.cdf = cdf;
    this.z = cdf[cells]!;
    this.mean = m1 / this.z;
    this.secondMoment = m2 / this.z;
  }

  /** The p-quantile, p ∈ (0, 1): binary search on the table, linear within the cell. */
  quantile(p: number): number {
    const target = p * this.z;
    const cdf = this.cdf;
    let lo = 0;
    let hi = this.cells;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! <= target) lo = mid;
      else hi = mid;
    }
    const width = cdf[hi]! - cdf[lo]!;
    const frac = width > 0 ? (target - cdf[lo]!) / width : 0.5;
    return this.lo + ((lo + frac) * (this.hi - this.lo)) / this.cells;
  }
}
