import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertInteger } from '../validation.js';
import type { ButcherTableau } from './tableaus.js';
import type {
  Drift,
  RungeKuttaIntegrator,
  RungeKuttaStepOptions,
  RungeKuttaStepResult,
  TimeLike,
} from './types.js';

/** `h` as a number or a `[B, 1]` column (so it broadcasts over the feature axis). */
function column(h: TimeLike): number | tf.Tensor {
  return typeof h === 'number' ? h : tf.reshape(h, [-1, 1]);
}

/** t + c·h as a `[B]` tensor. */
function timeAt(t: TimeLike, h: TimeLike, c: number, batch: number): tf.Tensor1D {
  if (typeof t === 'number' && typeof h === 'number') return tf.fill([batch], t + c * h) as tf.Tensor1D;
  const tt = typeof t === 'number' ? tf.fill([batch], t) : t;
  if (c === 0) return typeof t === 'number' ? (tt as tf.Tensor1D) : (tf.clone(tt) as tf.Tensor1D);
  return tf.add(tt, tf.mul(h, c)) as tf.Tensor1D;
}

/** x + h·Σⱼ wⱼkⱼ, skipping zero weights. */
function combine(
  x: tf.Tensor2D,
  h: number | tf.Tensor,
  w: readonly number[],
  ks: readonly tf.Tensor2D[],
): tf.Tensor2D {
  const terms: tf.Tensor[] = [];
  for (let j = 0; j < w.length; j++) if (w[j] !== 0) terms.push(tf.mul(ks[j]!, w[j]!));
  if (terms.length === 0) return tf.clone(x);
  const s = terms.length === 1 ? terms[0]! : tf.addN(terms);
  return tf.add(x, tf.mul(s, h)) as tf.Tensor2D;
}

function checkDriftOutput(k: tf.Tensor, x: tf.Tensor2D): tf.Tensor2D {
  if (!(k instanceof tf.Tensor) || k.rank !== 2 || k.shape[0] !== x.shape[0] || k.shape[1] !== x.shape[1]) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `The drift returned ${k instanceof tf.Tensor ? `shape [${k.shape.join(', ')}]` : typeof k}.`,
      {
        argument: 'drift',
        value: k instanceof tf.Tensor ? k.shape : typeof k,
        fix: `return a tensor of the state's shape [${x.shape.join(', ')}] from drift(x, t).`,
      },
    );
  }
  return k as tf.Tensor2D;
}

/**
 * One step of an explicit or diagonally implicit Runge–Kutta method:
 *
 * kᵢ = f(x + h·Σⱼ aᵢⱼkⱼ, t + cᵢh),  x(t + h) = x + h·Σᵢ bᵢkᵢ,  error = h·Σᵢ (bᵢ − b̂ᵢ)kᵢ.
 *
 * A stage with a diagonal entry aᵢᵢ ≠ 0 is implicit: kᵢ = f(x + h·Σⱼ<ᵢ aᵢⱼkⱼ + h·aᵢᵢkᵢ, t + cᵢh) is solved by
 * `solverMaxIter` fixed-point (Picard) iterations from kᵢ⁽⁰⁾ = f(x + h·Σⱼ<ᵢ aᵢⱼkⱼ) (no host reads: the count
 * is fixed, as TorchEBM's default `solver_check_every = 0`). Pure: inputs are neither mutated nor disposed.
 */
export function rungeKuttaStep(
  tableau: ButcherTableau,
  drift: Drift,
  x: tf.Tensor2D,
  t: TimeLike,
  h: TimeLike,
  options: RungeKuttaStepOptions = {},
): RungeKuttaStepResult {
  const iters = assertInteger('solverMaxIter', options.solverMaxIter ?? 8, 1);
  const batch = x.shape[0];
  let nfe = 0;
  const out = tf.tidy(() => {
    const hc = column(h);
    const ks: tf.Tensor2D[] = [];
    const s = tableau.c.length;
    for (let i = 0; i < s; i++) {
      const row = tableau.a[i]!;
      if (i === 0 && options.k0 !== undefined && row.length === 0 && tableau.c[0] === 0) {
        ks.push(options.k0);
        continue;
      }
      const ti = timeAt(t, h, tableau.c[i]!, batch);
      const base = combine(x, hc, row.slice(0, i), ks);
      let k = checkDriftOutput(drift(base, ti), x);
      nfe++;
      const diag = row.length > i ? row[i]! : 0;
      if (diag !== 0) {
        for (let it = 0; it < iters; it++) {
          k = checkDriftOutput(drift(tf.add(base, tf.mul(tf.mul(k, diag), hc)) as tf.Tensor2D, ti), x);
          nfe++;
        }
      }
      ks.push(k);
    }
    const next = combine(x, hc, tableau.b, ks);
    const error = tableau.bErr === undefined ? undefined : tf.sub(combine(x, hc, tableau.bErr, ks), x);
    const kLast = tableau.fsal ? ks[s - 1]! : undefined;
    return {
      x: next,
      ...(error ? { error } : {}),
      ...(kLast ? { kLast: kLast === options.k0 ? tf.clone(kLast) : kLast } : {}),
    } as {
      x: tf.Tensor2D;
      error?: tf.Tensor2D;
      kLast?: tf.Tensor2D;
    };
  });
  return { x: out.x, error: out.error, kLast: out.kLast, nfe };
}

/** Drift evaluations of one step of a tableau (the FSAL stage is reused after the first step). */
export function nfePerStep(tableau: ButcherTableau, solverMaxIter = 8): number {
  let n = 0;
  tableau.a.forEach((row, i) => {
    n += row.length > i && row[i] !== 0 ? 1 + solverMaxIter : 1;
  });
  return tableau.fsal ? n - 1 : n;
}

/** Wraps a tableau as an integrator of the Runge–Kutta family. */
export function tableauIntegrator(name: string, tableau: ButcherTableau): RungeKuttaIntegrator {
  return Object.freeze({
    family: 'rungeKutta' as const,
    name,
    order: tableau.order,
    adaptive: tableau.bErr !== undefined,
    nfePerStep: nfePerStep(tableau),
    tableau,
    step: (drift: Drift, x: tf.Tensor2D, t: TimeLike, h: TimeLike, options?: RungeKuttaStepOptions) =>
      rungeKuttaStep(tableau, drift, x, t, h, options),
  });
}

/** Options of {@link sdeStep}. */
export interface SdeStepOptions extends RungeKuttaStepOptions {
  /**
   * Diffusion coefficient D ≥ 0 (number, or one per chain `[B]`): the noise is √(2D|h|)·ξ. Langevin with noise
   * scale σ has D = σ².
   */
  readonly diffusion: number | tf.Tensor1D;
  /** Standard-normal noise ξ `[B, D]` (e.g. `randomNormal(key, x.shape)`). */
  readonly noise: tf.Tensor2D;
}

/**
 * One step of an SDE dx = f(x, t)dt + √(2D)dW with a Runge–Kutta integrator for the drift and the noise added
 * at Euler order (TorchEBM's additive-noise SDE-RK): x' = RK-step(x) + √(2D|h|)·ξ. With Euler and f = −∇E this
 * is x − h∇E + σ√(2h)ξ (D = σ²). Pure; the caller owns the result.
 */
export function sdeStep(
  integrator: RungeKuttaIntegrator,
  drift: Drift,
  x: tf.Tensor2D,
  t: TimeLike,
  h: TimeLike,
  options: SdeStepOptions,
): RungeKuttaStepResult {
  const r = integrator.step(drift, x, t, h, options);
  const next = tf.tidy(() => {
    const hAbs = typeof h === 'number' ? Math.abs(h) : tf.reshape(tf.abs(h), [-1, 1]);
    const d =
      typeof options.diffusion === 'number' ? options.diffusion : tf.reshape(options.diffusion, [-1, 1]);
    const amp =
      typeof d === 'number' && typeof hAbs === 'number'
        ? Math.sqrt(2 * d * hAbs)
        : tf.sqrt(tf.mul(tf.mul(d, hAbs), 2));
    return tf.add(r.x, tf.mul(options.noise, amp)) as tf.Tensor2D;
  });
  // the FSAL stage belongs to the noiseless point: not reusable after the noise.
  tf.dispose([r.x, r.error, r.kLast].filter((v): v is tf.Tensor2D => v !== undefined));
  return { x: next, nfe: r.nfe };
}
