import type * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertKnownOptions } from '../options.js';
import { assertBatch, assertFiniteNumber, assertInteger } from '../validation.js';
import {
  ADAPTIVE_OPTION_KEYS,
  type AdaptiveOptions,
  adaptiveIntegrate,
  driveAsync,
  driveSync,
  type HostReads,
  parseAdaptiveOptions,
} from './adaptive.js';
import { type IntegratorSpec, resolveIntegrator } from './registry.js';
import type { Drift } from './types.js';

/** Options of {@link integrate}. */
export interface IntegrateOptions extends AdaptiveOptions {
  /** Start time (default 0). */
  readonly t0?: number;
  /** End time (default 1; t1 < t0 integrates backward). */
  readonly t1?: number;
  /**
   * Number of equal steps. Required for fixed-step integrators; with an adaptive integrator it switches the
   * error control off (fixed steps with the higher-order solution).
   */
  readonly nSteps?: number;
  /** Fixed-point iterations of implicit stages (default 8). */
  readonly solverMaxIter?: number;
}

/** What {@link integrate} returns (the caller owns `x`). */
export interface IntegrateResult {
  /** x(t1) `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** Batched drift evaluations. */
  readonly nfe: number;
  /** Steps taken (attempted steps for adaptive runs). */
  readonly steps: number;
  /** Accepted / rejected steps per chain (adaptive runs). */
  readonly accepted?: Int32Array;
  readonly rejected?: Int32Array;
}

const KEYS = ['t0', 't1', 'nSteps', 'solverMaxIter', ...ADAPTIVE_OPTION_KEYS];

function* integrateGen(
  spec: IntegratorSpec,
  drift: Drift,
  x0: tf.Tensor2D,
  options: IntegrateOptions | undefined,
): HostReads<IntegrateResult> {
  const o = assertKnownOptions('integrate', options, KEYS);
  if (typeof drift !== 'function') {
    throw new EbmError('INVALID_PARAM', 'integrate needs a drift function f(x, t).', {
      argument: 'drift',
      value: typeof drift,
      fix: 'pass (x, t) => tensor of the shape of x.',
    });
  }
  const integ = resolveIntegrator(spec, { family: 'rungeKutta', owner: 'integrate' });
  const x = assertBatch('x0', x0);
  const t0 = assertFiniteNumber('t0', o.t0 ?? 0);
  const t1 = assertFiniteNumber('t1', o.t1 ?? 1);
  const solverMaxIter = assertInteger('solverMaxIter', o.solverMaxIter ?? 8, 1);
  if (o.nSteps === undefined) {
    if (!integ.adaptive) {
      throw new EbmError('INVALID_PARAM', `${integ.name} is a fixed-step integrator: give nSteps.`, {
        argument: 'nSteps',
        value: undefined,
        fix: 'pass e.g. { nSteps: 100 }, or use an adaptive integrator (dopri5).',
      });
    }
    const r = yield* adaptiveIntegrate(integ, drift, x, t0, t1, parseAdaptiveOptions(o));
    return { x: r.x, nfe: r.nfe, steps: r.attempts, accepted: r.accepted, rejected: r.rejected };
  }
  const n = assertInteger('nSteps', o.nSteps, 1);
  const h = (t1 - t0) / n;
  let cur = x;
  let k0: tf.Tensor2D | undefined;
  let nfe = 0;
  try {
    for (let i = 0; i < n; i++) {
      const r = integ.step(
        drift,
        cur,
        t0 + i * h,
        h,
        k0 === undefined ? { solverMaxIter } : { k0, solverMaxIter },
      );
      nfe += r.nfe;
      r.error?.dispose();
      k0?.dispose();
      k0 = r.kLast;
      if (cur !== x) cur.dispose();
      cur = r.x;
    }
  } catch (e) {
    if (cur !== x) cur.dispose();
    throw e;
  } finally {
    k0?.dispose();
  }
  return { x: cur === x ? (x.clone() as tf.Tensor2D) : cur, nfe, steps: n };
}

/**
 * Integrates ẋ = f(x, t) from `t0` to `t1` for a batch `[B, D]`: `nSteps` equal steps of any Runge–Kutta
 * integrator, or adaptive steps with error control (`adaptiveHeun`, `bosh3`, `dopri5`, `dopri8` without
 * `nSteps`). The integrator is a name, an integrator object or a step function ({@link resolveIntegrator}).
 * Async: adaptive runs read one `[B]` error ratio per step with `await data()`, so it works on every backend.
 *
 * @example
 * ```ts
 * const { x, nfe } = await integrate('dopri5', (x, t) => tf.neg(x), x0, { t1: 2, rtol: 1e-5 });
 * ```
 */
export function integrate(
  integrator: IntegratorSpec,
  drift: Drift,
  x0: tf.Tensor2D,
  options?: IntegrateOptions,
): Promise<IntegrateResult> {
  return driveAsync(integrateGen(integrator, drift, x0, options));
}

/** Synchronous {@link integrate} (adaptive runs read on the host: cpu, wasm and tensorflow backends only). */
export function integrateSync(
  integrator: IntegratorSpec,
  drift: Drift,
  x0: tf.Tensor2D,
  options?: IntegrateOptions,
): IntegrateResult {
  return driveSync(integrateGen(integrator, drift, x0, options));
}
