import { EbmError } from '../errors.js';
import { assertInteger } from '../validation.js';

/**
 * Linear assignment on the host: given an n×n cost matrix C (row-major), a permutation σ (row i → column σ(i))
 * minimising Σᵢ C[i, σ(i)]. Three solvers, all pure functions of plain arrays:
 * - {@link hungarianAssignment}: shortest augmenting paths with potentials (Kuhn–Munkres in the Jonker–Volgenant
 *   form), O(n³), exact for real costs. The default of `ExactOTCoupling`.
 * - {@link auctionAssignment}: Bertsekas' forward auction with ε-scaling (TorchEBM's `ExactOTCoupling`): within
 *   n·ε_final of the optimum (exact when costs are integers and n·ε_final < 1).
 * - {@link greedyAssignment}: repeatedly commits the globally cheapest free pair, O(n² log n). Not optimal.
 * @module
 */

function checkSquare(cost: ArrayLike<number>, n: number, owner: string): void {
  assertInteger('n', n, 1, 2 ** 14);
  if (!Number.isInteger(n) || n < 1 || cost.length !== n * n) {
    throw new EbmError('SHAPE_MISMATCH', `${owner}: the cost matrix must hold n·n = ${n * n} entries.`, {
      argument: 'cost',
      value: cost.length,
      fix: 'pass a square n×n cost matrix in row-major order.',
    });
  }
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i])) {
      throw new EbmError('NON_FINITE', `${owner}: the cost matrix holds a non-finite entry at ${i}.`, {
        argument: 'cost',
        value: cost[i],
        fix: 'couple finite points (check the batches for NaN/Infinity).',
      });
    }
  }
}

/** Σᵢ C[i, σ(i)] of an assignment. */
export function assignmentCost(cost: ArrayLike<number>, n: number, assignment: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += cost[i * n + assignment[i]!]!;
  return s;
}

/**
 * Exact minimum-cost assignment by shortest augmenting paths with dual potentials u, v (the O(n³)
 * Hungarian method in Jonker–Volgenant form): rows are added one at a time; each addition runs a Dijkstra-like
 * search over reduced costs C[i, j] − u[i] − v[j] ≥ 0 and augments along the shortest path. Float64 throughout.
 * Returns σ with σ[i] the column of row i.
 */
export function hungarianAssignment(cost: ArrayLike<number>, n: number): Int32Array {
  checkSquare(cost, n, 'hungarianAssignment');
  const INF = Number.POSITIVE_INFINITY;
  // 1-based arrays as in the classic formulation; p[j] = row matched to column j (0 = free).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      const row = (i0 - 1) * n;
      let delta = INF;
      let j1 = 0;
      const ui0 = u[i0]!;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[row + j - 1]! - ui0 - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Int32Array(n);
  for (let j = 1; j <= n; j++) out[p[j]! - 1] = j - 1;
  return out;
}

/** Options of {@link auctionAssignment}. */
export interface AuctionOptions {
  /** Final ε (default 1e-4, TorchEBM's `tol`): the result is within n·ε of the optimum. */
  readonly tol?: number;
  /** ε divisor between scaling phases (default 8). */
  readonly scaleFactor?: number;
  /** Bids allowed per phase before giving up (default max(200, 100n)·n). */
  readonly maxBids?: number;
}

/** What {@link auctionAssignment} returns. */
export interface AuctionResult {
  readonly assignment: Int32Array;
  /** Total bids made (work measure). */
  readonly bids: number;
  /** Scaling phases run. */
  readonly phases: number;
  /** Final ε. */
  readonly epsilon: number;
}

/**
 * Bertsekas' auction for min-cost assignment with ε-scaling (benefit a = −C). Each unassigned row i bids for its
 * best column j* (value a[i, j] − price[j]) and raises price[j*] by (best − second best) + ε; ε starts at
 * max|C|/2 and is divided by `scaleFactor` until it reaches `tol`, keeping prices between phases. ε-complementary
 * slackness bounds the result's cost by optimum + n·ε.
 */
export function auctionAssignment(
  cost: ArrayLike<number>,
  n: number,
  options: AuctionOptions = {},
): AuctionResult {
  checkSquare(cost, n, 'auctionAssignment');
  const tol = options.tol ?? 1e-4;
  const factor = options.scaleFactor ?? 8;
  if (!(tol > 0) || !(factor > 1)) {
    throw new EbmError('INVALID_PARAM', 'auction needs tol > 0 and scaleFactor > 1.', {
      argument: !(tol > 0) ? 'tol' : 'scaleFactor',
      value: !(tol > 0) ? tol : factor,
      fix: 'use e.g. tol: 1e-4, scaleFactor: 8.',
    });
  }
  const maxBids = options.maxBids ?? Math.max(200, 100 * n) * n;
  let cmax = 0;
  for (let k = 0; k < cost.length; k++) cmax = Math.max(cmax, Math.abs(cost[k]!));
  const price = new Float64Array(n);
  const owner = new Int32Array(n);
  const assign = new Int32Array(n);
  let eps = Math.max(cmax / 2, tol);
  let bids = 0;
  let phases = 0;
  const queue = new Int32Array(n);
  for (;;) {
    phases++;
    owner.fill(-1);
    assign.fill(-1);
    for (let i = 0; i < n; i++) queue[i] = i;
    let qHead = 0;
    let qLen = n;
    let phaseBids = 0;
    while (qLen > 0) {
      const i = queue[qHead]!;
      qHead = (qHead + 1) % n;
      qLen--;
      const row = i * n;
      let best = Number.NEGATIVE_INFINITY;
      let second = Number.NEGATIVE_INFINITY;
      let jBest = 0;
      for (let j = 0; j < n; j++) {
        const val = -cost[row + j]! - price[j]!;
        if (val > best) {
          second = best;
          best = val;
          jBest = j;
        } else if (val > second) second = val;
      }
      const inc = n === 1 ? eps : best - second + eps;
      price[jBest]! += inc;
      const prev = owner[jBest]!;
      owner[jBest] = i;
      assign[i] = jBest;
      if (prev >= 0) {
        assign[prev] = -1;
        queue[(qHead + qLen) % n] = prev;
        qLen++;
      }
      bids++;
      if (++phaseBids > maxBids) {
        throw new EbmError('DIVERGED', `auction did not finish a phase within ${maxBids} bids.`, {
          argument: 'maxBids',
          value: maxBids,
          fix: 'raise maxBids or use the Hungarian solver (method: "hungarian").',
        });
      }
    }
    if (eps <= tol) break;
    eps = Math.max(eps / factor, tol);
  }
  return { assignment: assign, bids, phases, epsilon: eps };
}

/**
 * Greedy matching: sorts all n² pairs by cost and commits each pair whose row and column are both still free
 * (TorchEBM's `GreedyCoupling`). O(n² log n); a 2-approximation at worst for metric costs, usually close.
 */
export function greedyAssignment(cost: ArrayLike<number>, n: number): Int32Array {
  checkSquare(cost, n, 'greedyAssignment');
  const idx = new Uint32Array(n * n);
  for (let k = 0; k < idx.length; k++) idx[k] = k;
  const c = Float64Array.from(cost);
  idx.sort((a, b) => c[a]! - c[b]! || a - b);
  const out = new Int32Array(n).fill(-1);
  const colUsed = new Uint8Array(n);
  let left = n;
  for (let k = 0; k < idx.length && left > 0; k++) {
    const i = Math.floor(idx[k]! / n);
    const j = idx[k]! % n;
    if (out[i] !== -1 || colUsed[j]) continue;
    out[i] = j;
    colUsed[j] = 1;
    left--;
  }
  return out;
}
