import * as tf from '@tensorflow/tfjs-core';
import { readSync } from '../host-read.js';
import { randomUniform } from '../kernels.js';
import { assertKnownOptions } from '../options.js';
import { type RngKey, uniformArray } from '../rng.js';
import { canReadSync } from '../tfjs-internals.js';
import { assertInteger, assertPositive } from '../validation.js';
import { BaseCoupling, type CouplingResult, gatherRows, squaredEuclideanCost } from './coupling.js';

/** Options of {@link sinkhornPlan}. */
export interface SinkhornPlanOptions {
  /** Entropic regularisation ε > 0 (relative to the cost's scale). */
  readonly reg: number;
  /** Iterations (each updates f then g). */
  readonly nIters: number;
  /** KL marginal relaxation ρ (unbalanced OT); `undefined` for hard marginals. */
  readonly regMarginal?: number | undefined;
}

/**
 * Entropic OT plan in the log domain (stable for small ε) between uniform marginals a = 1/n, b = 1/m on a cost
 * `[n, m]`: potentials f, g iterate
 *
 * f ← τ·(ε·log a − ε·LSEⱼ((gⱼ − Cᵢⱼ)/ε)),  g ← τ·(ε·log b − ε·LSEᵢ((fᵢ − Cᵢⱼ)/ε)),
 *
 * with τ = 1 (balanced Sinkhorn) or τ = ρ/(ρ + ε) (unbalanced, KL-relaxed marginals; Chizat et al. 2018), and
 * the plan is P = exp((fᵢ + gⱼ − Cᵢⱼ)/ε). Balanced: P's column sums are exactly b after the last g update and
 * its row sums converge to a. All on the device; the caller owns P.
 */
export function sinkhornPlan(cost: tf.Tensor2D, options: SinkhornPlanOptions): tf.Tensor2D {
  const [n, m] = cost.shape;
  const eps = options.reg;
  const tau = options.regMarginal === undefined ? 1 : options.regMarginal / (options.regMarginal + eps);
  const logA = -Math.log(n);
  const logB = -Math.log(m);
  const negCe = tf.tidy(() => tf.div(cost, -eps)); // −C/ε
  let f: tf.Tensor = tf.zeros([n, 1]);
  let g: tf.Tensor = tf.zeros([1, m]);
  try {
    for (let it = 0; it < options.nIters; it++) {
      const fNew = tf.tidy(() =>
        tf.mul(tau, tf.sub(eps * logA, tf.mul(eps, tf.logSumExp(tf.add(negCe, tf.div(g, eps)), 1, true)))),
      );
      f.dispose();
      f = fNew;
      const gNew = tf.tidy(() =>
        tf.mul(tau, tf.sub(eps * logB, tf.mul(eps, tf.logSumExp(tf.add(negCe, tf.div(f, eps)), 0, true)))),
      );
      g.dispose();
      g = gNew;
    }
    return tf.tidy(() => tf.exp(tf.add(negCe, tf.div(tf.add(f, g), eps)))) as tf.Tensor2D;
  } finally {
    tf.dispose([negCe, f, g]);
  }
}

/**
 * {@link sinkhornPlan} on the host in float64 (the same iterations; used on backends that read synchronously,
 * where tfjs's broadcasting kernels are slow: ~100× faster on cpu at n = 256). `cost` is row-major `[n, m]`.
 */
export function sinkhornPlanHost(
  cost: ArrayLike<number>,
  n: number,
  m: number,
  options: SinkhornPlanOptions,
): Float64Array {
  const eps = options.reg;
  const tau = options.regMarginal === undefined ? 1 : options.regMarginal / (options.regMarginal + eps);
  const a = new Float64Array(n * m);
  for (let k = 0; k < a.length; k++) a[k] = -cost[k]! / eps;
  const f = new Float64Array(n);
  const g = new Float64Array(m);
  const logA = -Math.log(n);
  const logB = -Math.log(m);
  const colMax = new Float64Array(m);
  const colSum = new Float64Array(m);
  for (let it = 0; it < options.nIters; it++) {
    for (let i = 0; i < n; i++) {
      const row = i * m;
      let mx = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < m; j++) mx = Math.max(mx, a[row + j]! + g[j]! / eps);
      let s = 0;
      for (let j = 0; j < m; j++) s += Math.exp(a[row + j]! + g[j]! / eps - mx);
      f[i] = tau * (eps * logA - eps * (mx + Math.log(s)));
    }
    colMax.fill(Number.NEGATIVE_INFINITY);
    colSum.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * m;
      const fi = f[i]! / eps;
      for (let j = 0; j < m; j++) colMax[j] = Math.max(colMax[j]!, a[row + j]! + fi);
    }
    for (let i = 0; i < n; i++) {
      const row = i * m;
      const fi = f[i]! / eps;
      for (let j = 0; j < m; j++) colSum[j]! += Math.exp(a[row + j]! + fi - colMax[j]!);
    }
    for (let j = 0; j < m; j++) g[j] = tau * (eps * logB - eps * (colMax[j]! + Math.log(colSum[j]!)));
  }
  const p = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) p[i * m + j] = Math.exp(a[i * m + j]! + (f[i]! + g[j]!) / eps);
  }
  return p;
}

/** {@link drawPlanRows} on the host, with the same uniforms (`uniformArray(key, [n])`). */
export function drawPlanRowsHost(plan: ArrayLike<number>, n: number, m: number, key: RngKey): Int32Array {
  const u = uniformArray(key, [n]);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let j = 0; j < m; j++) total += plan[i * m + j]!;
    const target = u[i]! * total;
    let cs = 0;
    let j = 0;
    for (; j < m - 1; j++) {
      cs += plan[i * m + j]!;
      if (cs >= target) break;
    }
    out[i] = j;
  }
  return out;
}

/**
 * One multinomial draw per row of a plan: column j of row i with probability Pᵢⱼ/Σⱼ Pᵢⱼ (inverse CDF of the
 * row's cumulative sums against one uniform per row). Returns `[n]` int32 column indices.
 */
export function drawPlanRows(plan: tf.Tensor2D, key: RngKey): tf.Tensor1D {
  const [n, m] = plan.shape;
  return tf.tidy(() => {
    const cs = tf.cumsum(plan, 1);
    const total = tf.slice(cs, [0, m - 1], [n, 1]);
    const u = tf.mul(tf.reshape(randomUniform(key, [n]), [n, 1]), total);
    const below = tf.sum(tf.cast(tf.less(cs, u), 'int32'), 1);
    return tf.minimum(below, tf.scalar(m - 1, 'int32')) as tf.Tensor1D;
  });
}

/** Options of {@link SinkhornCoupling}. */
export interface SinkhornOptions {
  /** Entropic regularisation ε on the max-normalised cost (default 0.05). */
  readonly reg?: number;
  /** Iterations (default 100). */
  readonly nIters?: number;
  /** Seed of the coupling's key stream, used when `couple` gets no key (default 0). */
  readonly seed?: number;
}

/**
 * Entropic minibatch OT (TorchEBM's `SinkhornCoupling`): the log-domain Sinkhorn plan ({@link sinkhornPlan}) on
 * the max-normalised squared-Euclidean cost with uniform marginals, then one multinomial draw per row
 * ({@link drawPlanRows}): x₁ᵢ ← x₁ⱼ with j ~ Pᵢ·/Σ Pᵢ·. Columns may repeat (the draw is not a permutation).
 * Entirely on the device. {@link SinkhornCoupling.plan} returns the plan.
 */
export class SinkhornCoupling extends BaseCoupling {
  readonly name: string = 'sinkhorn';
  readonly reg: number;
  readonly nIters: number;

  constructor(options: SinkhornOptions = {}, owner = 'SinkhornCoupling', extraKeys: readonly string[] = []) {
    super(options.seed ?? 0);
    assertKnownOptions(owner, options, ['reg', 'nIters', 'seed', ...extraKeys]);
    this.reg = assertPositive('reg', options.reg ?? 0.05);
    this.nIters = assertInteger('nIters', options.nIters ?? 100, 1);
  }

  /** KL relaxation of the marginals (undefined: balanced). */
  protected get regMarginal(): number | undefined {
    return undefined;
  }

  /** The transport plan `[n, m]` between x₀ and x₁ (sums to ≈1; marginals ≈ 1/n and 1/m when balanced). */
  plan(x0: tf.Tensor2D, x1: tf.Tensor2D): tf.Tensor2D {
    const [a, b] = this.checkPair(x0, x1, false);
    const c = squaredEuclideanCost(a, b, true);
    try {
      if (canReadSync()) {
        const host = readSync(c, 'SinkhornCoupling.plan()', 'the device plan (sinkhornPlan)');
        const p = sinkhornPlanHost(host, a.shape[0], b.shape[0], this.planOptions());
        return tf.tensor2d(Float32Array.from(p), [a.shape[0], b.shape[0]]);
      }
      return sinkhornPlan(c, this.planOptions());
    } finally {
      c.dispose();
    }
  }

  private planOptions(): SinkhornPlanOptions {
    return { reg: this.reg, nIters: this.nIters, regMarginal: this.regMarginal };
  }

  private fromHost(x0: tf.Tensor2D, x1: tf.Tensor2D, cost: ArrayLike<number>, key: RngKey): CouplingResult {
    const [n, m] = [x0.shape[0], x1.shape[0]];
    const p = sinkhornPlanHost(cost, n, m, this.planOptions());
    const idx = drawPlanRowsHost(p, n, m, key);
    let weights: tf.Tensor1D | undefined;
    if (this.regMarginal !== undefined) {
      const r = new Float32Array(n);
      let mean = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += p[i * m + j]!;
        r[i] = s;
        mean += s / n;
      }
      for (let i = 0; i < n; i++) r[i] = r[i]! / Math.max(mean, 1e-300);
      weights = tf.tensor1d(r);
    }
    return { x0: tf.clone(x0), x1: gatherRows(x1, idx), weights };
  }

  /**
   * Pairs x₀ with draws from the plan's rows. On host backends (cpu, wasm) the plan is computed on the host in
   * float64 ({@link sinkhornPlanHost}); elsewhere on the device ({@link sinkhornPlan}).
   */
  couple(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): CouplingResult {
    const [a, b] = this.checkPair(x0, x1, false);
    const k = this.keyFor(key);
    const c = squaredEuclideanCost(a, b, true);
    if (canReadSync()) {
      try {
        return this.fromHost(
          a,
          b,
          readSync(c, `${this.name} couple()`, 'await coupling.coupleAsync(x0, x1)'),
          k,
        );
      } finally {
        c.dispose();
      }
    }
    let p: tf.Tensor2D | undefined;
    try {
      p = sinkhornPlan(c, this.planOptions());
      const idx = drawPlanRows(p, k);
      const x1c = gatherRows(b, idx);
      idx.dispose();
      return { x0: tf.clone(a), x1: x1c, weights: this.weightsOf(p) };
    } finally {
      c.dispose();
      p?.dispose();
    }
  }

  /** The pairing with an asynchronous read of the cost (every backend; the host plan, as `couple` on cpu). */
  override async coupleAsync(x0: tf.Tensor2D, x1: tf.Tensor2D, key?: RngKey): Promise<CouplingResult> {
    const [a, b] = this.checkPair(x0, x1, false);
    const k = this.keyFor(key);
    const c = squaredEuclideanCost(a, b, true);
    try {
      return this.fromHost(a, b, await c.data(), k);
    } finally {
      c.dispose();
    }
  }

  /** Per-row weights from the plan (none for balanced Sinkhorn). */
  protected weightsOf(_plan: tf.Tensor2D): tf.Tensor1D | undefined {
    return undefined;
  }
}

/** Options of {@link UnbalancedSinkhornCoupling}. */
export interface UnbalancedSinkhornOptions extends SinkhornOptions {
  /** KL marginal relaxation ρ > 0 (default 1; larger → closer to balanced). */
  readonly regMarginal?: number;
}

/**
 * Unbalanced entropic OT (TorchEBM's `UnbalancedSinkhornCoupling`): KL-relaxed marginals (damping ρ/(ρ + ε) in
 * the log-domain updates), one draw per row as in {@link SinkhornCoupling}, and `weights` = row mass / mean row
 * mass (mean 1): source points the plan would rather not transport (outliers) get small weights.
 */
export class UnbalancedSinkhornCoupling extends SinkhornCoupling {
  override readonly name = 'unbalancedSinkhorn';
  private readonly rho: number;

  constructor(options: UnbalancedSinkhornOptions = {}) {
    super(options, 'UnbalancedSinkhornCoupling', ['regMarginal']);
    this.rho = assertPositive('regMarginal', options.regMarginal ?? 1);
  }

  protected override get regMarginal(): number {
    return this.rho;
  }

  protected override weightsOf(plan: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const r = tf.sum(plan, 1);
      return tf.div(r, tf.maximum(tf.mean(r), 1e-30)) as tf.Tensor1D;
    });
  }
}
