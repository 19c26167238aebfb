import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import {
  assertFiniteNumber,
  assertInteger,
  assertNonNegative,
  assertOneOf,
  assertPositive,
} from '../validation.js';
import type { Drift, RungeKuttaIntegrator } from './types.js';

/**
 * Step-size policy of the adaptive integrators over a batch of chains:
 * - `'perChain'` (default): each chain has its own time, step and accept/reject decision, from its own error
 *   ratio (RMS over its D coordinates). A chain that reached the end stops (h = 0) while others continue;
 *   every attempt still evaluates the drift on the whole batch (one batched call).
 * - `'shared'`: one step for all chains, error ratio = RMS over every element of the batch (TorchEBM and
 *   torchdiffeq's norm), so a run is the same as integrating the batch as one big system.
 */
export type StepControl = 'perChain' | 'shared';

/** Error control of the adaptive integrators (defaults: TorchEBM's `BaseRungeKuttaIntegrator`). */
export interface AdaptiveOptions {
  /** Absolute tolerance (default 1e-6). */
  readonly atol?: number;
  /** Relative tolerance (default 1e-3). */
  readonly rtol?: number;
  /** Safety factor of the step-size update (default 0.9). */
  readonly safety?: number;
  /** Smallest step-size factor after a rejected step (default 0.2). */
  readonly minFactor?: number;
  /** Largest step-size factor (default 10). */
  readonly maxFactor?: number;
  /** Most attempted steps (accepted + rejected) per chain before `DIVERGED` (default 10000). */
  readonly maxSteps?: number;
  /** Largest |h| (default ∞). */
  readonly maxStepSize?: number;
  /** First |h| (default: Hairer–Nørsett–Wanner's starting-step heuristic, 2 extra drift evaluations). */
  readonly firstStep?: number;
  /** Step-size policy over chains (default `'perChain'`). */
  readonly stepControl?: StepControl;
}

/** Parsed {@link AdaptiveOptions}. */
export interface AdaptiveSettings {
  readonly atol: number;
  readonly rtol: number;
  readonly safety: number;
  readonly minFactor: number;
  readonly maxFactor: number;
  readonly maxSteps: number;
  readonly maxStepSize: number;
  readonly firstStep: number | undefined;
  readonly stepControl: StepControl;
}

const ADAPTIVE_KEYS = [
  'atol',
  'rtol',
  'safety',
  'minFactor',
  'maxFactor',
  'maxSteps',
  'maxStepSize',
  'firstStep',
  'stepControl',
] as const;

/** The option names of {@link AdaptiveOptions}. */
export const ADAPTIVE_OPTION_KEYS: readonly string[] = ADAPTIVE_KEYS;

/** Validates {@link AdaptiveOptions} and fills the defaults. */
export function parseAdaptiveOptions(o: AdaptiveOptions = {}): AdaptiveSettings {
  const maxStepSize = o.maxStepSize === undefined ? Number.POSITIVE_INFINITY : o.maxStepSize;
  if (!(typeof maxStepSize === 'number' && maxStepSize > 0)) {
    throw new EbmError('INVALID_PARAM', 'maxStepSize must be > 0 (or Infinity).', {
      argument: 'maxStepSize',
      value: maxStepSize,
      fix: 'pass a positive number or leave it out.',
    });
  }
  const minFactor = assertPositive('minFactor', o.minFactor ?? 0.2);
  const maxFactor = assertPositive('maxFactor', o.maxFactor ?? 10);
  if (!(minFactor < 1 && maxFactor > 1)) {
    throw new EbmError('INVALID_PARAM', 'Need minFactor < 1 < maxFactor.', {
      argument: 'minFactor',
      value: [minFactor, maxFactor],
      fix: 'use e.g. minFactor: 0.2, maxFactor: 10.',
    });
  }
  const atol = assertNonNegative('atol', o.atol ?? 1e-6);
  const rtol = assertNonNegative('rtol', o.rtol ?? 1e-3);
  if (atol === 0 && rtol === 0) {
    throw new EbmError('INVALID_PARAM', 'atol and rtol cannot both be 0.', {
      argument: 'atol',
      value: 0,
      fix: 'pass a positive atol or rtol.',
    });
  }
  return {
    atol,
    rtol,
    safety: assertPositive('safety', o.safety ?? 0.9),
    minFactor,
    maxFactor,
    maxSteps: assertInteger('maxSteps', o.maxSteps ?? 10000, 1),
    maxStepSize,
    firstStep: o.firstStep === undefined ? undefined : assertPositive('firstStep', o.firstStep),
    stepControl: assertOneOf('stepControl', o.stepControl ?? 'perChain', ['perChain', 'shared']),
  };
}

/** What an adaptive integration returns (the caller owns `x`). */
export interface AdaptiveResult {
  /** x(t1) `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** Batched drift evaluations (each one evaluates every chain). */
  readonly nfe: number;
  /** Attempted steps (loop iterations). */
  readonly attempts: number;
  /** Accepted steps per chain. */
  readonly accepted: Int32Array;
  /** Rejected steps per chain. */
  readonly rejected: Int32Array;
  /** The next step size each chain would have taken (signed): a warm start for a following interval. */
  readonly nextStep: Float32Array;
}

/**
 * Host reads of an adaptive run: a generator yields the tensor it needs on the host and receives its values.
 * {@link driveSync} answers with `dataSync` (cpu, wasm), {@link driveAsync} with `await data()` (every backend).
 * The driver disposes each yielded tensor after reading it.
 */
export type HostReads<R> = Generator<tf.Tensor, R, Float32Array>;

/** Runs a {@link HostReads} generator with synchronous reads (cpu / wasm / tensorflow backends only). */
export function driveSync<R>(g: HostReads<R>): R {
  const backend = tf.getBackend();
  if (backend === 'webgpu' || backend === 'webgl') {
    g.return(undefined as never);
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `Adaptive integration reads step-size decisions on the host; the ${backend} backend cannot read synchronously.`,
      {
        argument: 'backend',
        value: backend,
        fix: 'use the async API (sample(), integrate()) on this backend, or a fixed-step integrator such as rk4.',
      },
    );
  }
  let r: IteratorResult<tf.Tensor, R>;
  try {
    r = g.next();
    while (!r.done) {
      const t = r.value;
      let data: Float32Array;
      try {
        data = t.dataSync() as Float32Array;
      } finally {
        t.dispose();
      }
      r = g.next(data);
    }
  } catch (e) {
    g.return(undefined as never);
    throw e;
  }
  return r.value;
}

/** Runs a {@link HostReads} generator with `await t.data()` (every backend). */
export async function driveAsync<R>(g: HostReads<R>): Promise<R> {
  let r: IteratorResult<tf.Tensor, R>;
  try {
    r = g.next();
    while (!r.done) {
      const t = r.value;
      let data: Float32Array;
      try {
        data = (await t.data()) as Float32Array;
      } finally {
        t.dispose();
      }
      r = g.next(data);
    }
  } catch (e) {
    g.return(undefined as never);
    throw e;
  }
  return r.value;
}

/** Per-chain mean over D of (v / (atol + rtol·max(|a|, |b|)))², `[B]`. */
function scaledMeanSquare(
  v: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  atol: number,
  rtol: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const scale = tf.add(atol, tf.mul(rtol, tf.maximum(tf.abs(a), tf.abs(b))));
    return tf.mean(tf.square(tf.div(v, scale)), 1) as tf.Tensor1D;
  });
}

/**
 * Adaptive integration of ẋ = f(x, t) from t0 to t1 (t1 < t0 integrates backward) with an embedded
 * Runge–Kutta pair, as a {@link HostReads} generator (one `[B]` read per attempted step).
 *
 * Error control (TorchEBM / torchdiffeq): per chain, ratio = RMS over D of error/(atol + rtol·max(|x|, |x'|));
 * the step is accepted when ratio ≤ 1; then h ← h·clip(safety·ratio^(−1/p), minFactor, maxFactor), p the
 * method's order, with the lower clip raised to 1 after an accepted step (an accepted step never shrinks h).
 * Steps are clipped to land exactly on t1 and to |h| ≤ maxStepSize. With `stepControl: 'shared'` the ratio is
 * the RMS over the whole batch and all chains share h. FSAL stages are reused across accepted steps.
 * Throws `DIVERGED` when a chain exceeds `maxSteps` attempts or its step underflows.
 */
export function* adaptiveIntegrate(
  integrator: RungeKuttaIntegrator,
  drift: Drift,
  x0: tf.Tensor2D,
  t0: number,
  t1: number,
  settings: AdaptiveSettings,
  warmStart?: Float32Array,
): HostReads<AdaptiveResult> {
  if (!integrator.adaptive || integrator.order === undefined) {
    throw new EbmError('INVALID_PARAM', `${integrator.name} has no embedded error estimate.`, {
      argument: 'integrator',
      value: integrator.name,
      fix: 'use adaptiveHeun, bosh3, dopri5 or dopri8 for adaptive steps, or give a fixed number of steps.',
    });
  }
  assertFiniteNumber('t0', t0);
  assertFiniteNumber('t1', t1);
  const B = x0.shape[0];
  const dir = t1 >= t0 ? 1 : -1;
  const span = Math.abs(t1 - t0);
  const accepted = new Int32Array(B);
  const rejected = new Int32Array(B);
  const nextStep = new Float32Array(B);
  const fsal = integrator.tableau?.fsal === true;
  let x = tf.clone(x0);
  let k0: tf.Tensor2D | undefined;
  let nfe = 0;
  let attempts = 0;
  let finished = false;
  let pending: tf.Tensor[] = [];
  const { atol, rtol, safety, minFactor, maxFactor, maxSteps, maxStepSize } = settings;
  const order = integrator.order;
  try {
    if (span === 0) {
      nextStep.fill(dir * (warmStart?.[0] ?? 0));
      finished = true;
      return { x, nfe, attempts, accepted, rejected, nextStep };
    }
    const t = new Float64Array(B).fill(t0);
    const h = new Float64Array(B);
    const shared = settings.stepControl === 'shared';
    if (
      warmStart !== undefined &&
      warmStart.length === B &&
      warmStart.every((v) => Number.isFinite(v) && v !== 0)
    ) {
      for (let c = 0; c < B; c++) h[c] = Math.abs(warmStart[c]!);
    } else if (settings.firstStep !== undefined) {
      h.fill(settings.firstStep);
    } else {
      // Hairer, Nørsett & Wanner (1993), II.4: h0 = 0.01·d0/d1, then h1 = (0.01/max(d1, d2))^(1/(p+1)).
      const tt = tf.fill([B], t0) as tf.Tensor1D;
      pending = [tt];
      const f0 = drift(x, tt);
      nfe++;
      const d0 = tf.tidy(() => tf.sqrt(scaledMeanSquare(x, x, x, atol, rtol)));
      const d1 = tf.tidy(() => tf.sqrt(scaledMeanSquare(f0, x, x, atol, rtol)));
      tt.dispose();
      const both = tf.stack([d0, d1]);
      tf.dispose([d0, d1]);
      pending = [f0];
      const r1 = yield both;
      const h0 = new Float32Array(B);
      for (let c = 0; c < B; c++) {
        const a = r1[c]!;
        const b = r1[B + c]!;
        h0[c] = a < 1e-5 || b < 1e-5 ? 1e-6 : 0.01 * (a / b);
      }
      if (shared) h0.fill(Math.min(...h0));
      const h0t = tf.tensor1d(h0.map((v) => dir * v));
      const t1t = tf.tensor1d(h0.map((v) => t0 + dir * v));
      const y1 = tf.tidy(() => tf.add(x, tf.mul(f0, tf.reshape(h0t, [-1, 1]))) as tf.Tensor2D);
      pending = [f0, h0t, t1t, y1];
      const f1 = drift(y1, t1t);
      nfe++;
      const d2 = tf.tidy(() =>
        tf.div(tf.sqrt(scaledMeanSquare(tf.sub(f1, f0) as tf.Tensor2D, x, x, atol, rtol)), tf.abs(h0t)),
      );
      const d1b = tf.tidy(() => tf.sqrt(scaledMeanSquare(f0, x, x, atol, rtol)));
      tf.dispose([h0t, t1t, y1, f1]);
      pending = [];
      if (fsal) k0 = f0;
      else f0.dispose();
      const both2 = tf.stack([d1b, d2]);
      tf.dispose([d1b, d2]);
      const r2 = yield both2;
      for (let c = 0; c < B; c++) {
        const m = Math.max(r2[c]!, r2[B + c]!);
        const h1 = m <= 1e-15 ? Math.max(1e-6, h0[c]! * 1e-3) : (0.01 / m) ** (1 / (order + 1));
        h[c] = Math.min(100 * h0[c]!, h1);
      }
      if (shared) h.fill(Math.min(...h));
    }
    const done = new Uint8Array(B);
    const tries = new Int32Array(B);
    for (;;) {
      // step of each chain, clipped to the end of the interval and to maxStepSize
      const hs = new Float32Array(B);
      const ts = new Float32Array(B);
      let active = 0;
      for (let c = 0; c < B; c++) {
        ts[c] = t[c]!;
        if (done[c]) continue;
        active++;
        const remaining = Math.abs(t1 - t[c]!);
        hs[c] = dir * Math.min(h[c]!, maxStepSize, remaining);
      }
      if (active === 0) break;
      attempts++;
      const hT = tf.tensor1d(hs);
      const tT = tf.tensor1d(ts);
      let r: ReturnType<typeof integrator.step>;
      try {
        if (fsal && k0 === undefined) {
          k0 = drift(x, tT);
          nfe++;
        }
        r = integrator.step(drift, x, tT, hT, k0 === undefined ? {} : { k0 });
      } finally {
        tf.dispose([hT, tT]);
      }
      nfe += r.nfe;
      const msq = scaledMeanSquare(r.error!, x, r.x, atol, rtol);
      r.error!.dispose();
      pending = [r.x, r.kLast].filter((v): v is tf.Tensor2D => v !== undefined);
      const ms = yield msq;
      const ratio = new Float64Array(B);
      if (shared) {
        let s = 0;
        for (let c = 0; c < B; c++) if (!done[c]) s += ms[c]!;
        ratio.fill(Math.sqrt(s / active));
      } else for (let c = 0; c < B; c++) ratio[c] = Math.sqrt(ms[c]!);
      const accept = new Float32Array(B);
      let anyAccept = false;
      let allAccept = true;
      for (let c = 0; c < B; c++) {
        if (done[c]) continue;
        tries[c]!++;
        const q = ratio[c]!;
        const ok = Number.isFinite(q) && q <= 1;
        const lo = ok ? 1 : minFactor;
        const factor = !Number.isFinite(q)
          ? minFactor
          : q === 0
            ? maxFactor
            : Math.min(maxFactor, Math.max(lo, safety * q ** (-1 / order)));
        if (ok) {
          accept[c] = 1;
          anyAccept = true;
          accepted[c]!++;
          const landed = Math.abs(hs[c]!) >= Math.abs(t1 - t[c]!);
          t[c] = landed ? t1 : t[c]! + hs[c]!;
          if (landed) done[c] = 1;
          h[c] = Math.abs(hs[c]!) * factor;
        } else {
          allAccept = false;
          rejected[c]!++;
          h[c] = Math.abs(hs[c]!) * factor;
        }
        if (!done[c] && (tries[c]! >= maxSteps || h[c]! <= 1e-12 * Math.max(1, Math.abs(t[c]!)))) {
          throw new EbmError(
            'DIVERGED',
            tries[c]! >= maxSteps
              ? `Adaptive ${integrator.name} needed more than maxSteps = ${maxSteps} steps (chain ${c}, t = ${t[c]}).`
              : `Adaptive ${integrator.name}'s step underflowed (chain ${c}, t = ${t[c]}, h = ${h[c]}).`,
            {
              argument: 'maxSteps',
              value: maxSteps,
              fix: 'loosen atol/rtol, raise maxSteps, or check the drift for non-finite values or stiffness.',
            },
          );
        }
      }
      for (let c = 0; c < B; c++) nextStep[c] = dir * h[c]!;
      if (anyAccept) {
        if (allAccept) {
          x.dispose();
          x = r.x;
          if (fsal) {
            k0?.dispose();
            k0 = r.kLast;
          } else r.kLast?.dispose();
        } else {
          const mask = tf.tidy(() => tf.cast(tf.reshape(tf.tensor1d(accept), [-1, 1]), 'bool'));
          const nx = tf.where(mask, r.x, x) as tf.Tensor2D;
          x.dispose();
          x = nx;
          if (fsal && k0 !== undefined && r.kLast !== undefined) {
            const nk = tf.where(mask, r.kLast, k0) as tf.Tensor2D;
            k0.dispose();
            k0 = nk;
          }
          mask.dispose();
          tf.dispose([r.x, r.kLast].filter((v): v is tf.Tensor2D => v !== undefined));
        }
      } else tf.dispose([r.x, r.kLast].filter((v): v is tf.Tensor2D => v !== undefined));
      pending = [];
    }
    finished = true;
    return { x, nfe, attempts, accepted, rejected, nextStep };
  } finally {
    // errors and an abandoned generator (the driver's return()) release every tensor
    for (const v of pending) if (!v.isDisposed) v.dispose();
    if (k0 !== undefined && !k0.isDisposed) k0.dispose();
    if (!finished && !x.isDisposed) x.dispose();
  }
}
