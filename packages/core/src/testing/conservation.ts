import type * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { foldIn, normalArray, type RngKey, splitKey } from '../rng.js';
import { dkwmEpsilon, ksTwoSample } from './stats.js';

/** Options of {@link checkTargetConservation}. */
export interface ConservationOptions {
  /** Draws `n` exact samples `[n, D]` of the target from a key. */
  readonly sampleTarget: (n: number, key: RngKey) => tf.Tensor2D;
  /** One transition of the sampler under test: `[n, D] → [n, D]` (must not dispose its input). */
  readonly step: (x: tf.Tensor2D, key: RngKey) => tf.Tensor2D;
  /** Number of chains (default 10 000). */
  readonly n?: number;
  /** Key of the whole check. */
  readonly key: RngKey;
  /** Probability of failing a correct sampler, over all tests together (default 1e-4, Bonferroni-split). */
  readonly falseFailRate?: number;
  /** Random unit projections tested besides the coordinate marginals (default 4). */
  readonly nProjections?: number;
  /** Minimum fraction of chains that must move, the power check (default 0.05). */
  readonly minMovedFraction?: number;
  /** 'ks' (asymptotic Kolmogorov p-values, default) or 'dkwm' (distribution-free bands, more conservative). */
  readonly method?: 'ks' | 'dkwm';
}

/** One test of the conservation check. */
export interface ConservationTest {
  readonly name: string;
  readonly statistic: number;
  readonly pValue: number;
  readonly threshold: number;
  readonly passed: boolean;
}

/** Report of {@link checkTargetConservation}. */
export interface ConservationReport {
  readonly passed: boolean;
  readonly movedFraction: number;
  readonly tests: readonly ConservationTest[];
  readonly alphaPerTest: number;
}

/**
 * One-step target-conservation test (Geweke-style "successive conditional" check, one step): start n chains
 * at exact samples of the target, take one step, and compare each coordinate marginal and `nProjections`
 * random 1-D projections of the result with fresh exact samples by two-sample KS tests, Bonferroni-corrected so
 * that a correct sampler fails with probability ≤ `falseFailRate`. A transition that leaves the target
 * invariant passes; one with a wrong acceptance ratio or a biased proposal fails once n is large enough.
 * The power check requires that at least `minMovedFraction` of the chains moved (a sampler that never moves
 * conserves every target trivially).
 */
export function checkTargetConservation(options: ConservationOptions): ConservationReport {
  const n = options.n ?? 10_000;
  const alpha = options.falseFailRate ?? 1e-4;
  const nProj = options.nProjections ?? 4;
  const minMoved = options.minMovedFraction ?? 0.05;
  if (!Number.isInteger(n) || n < 100) {
    throw new EbmError('INVALID_PARAM', 'n must be an integer >= 100.', {
      argument: 'n',
      value: n,
      fix: 'use thousands of chains.',
    });
  }
  const [kStart, kStep, kRef, kProj] = splitKey(options.key, 4) as [RngKey, RngKey, RngKey, RngKey];
  const x0 = options.sampleTarget(n, kStart);
  let x1: tf.Tensor2D | undefined;
  let ref: tf.Tensor2D | undefined;
  try {
    x1 = options.step(x0, kStep);
    ref = options.sampleTarget(n, kRef);
    if (x1.shape[0] !== n || x1.shape[1] !== x0.shape[1] || ref.shape[1] !== x0.shape[1]) {
      throw new EbmError('SHAPE_MISMATCH', 'step and sampleTarget must return [n, D] tensors.', {
        argument: 'step',
        value: [x0.shape, x1.shape, ref.shape],
        fix: 'return one row per chain with the target dimension.',
      });
    }
    const d = x0.shape[1];
    const a0 = x0.dataSync();
    const a1 = x1.dataSync();
    const ar = ref.dataSync();
    let moved = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        if (a0[i * d + j] !== a1[i * d + j]) {
          moved++;
          break;
        }
      }
    }
    const dirs: { name: string; w: Float64Array }[] = [];
    for (let j = 0; j < d; j++) {
      const w = new Float64Array(d);
      w[j] = 1;
      dirs.push({ name: `marginal ${j}`, w });
    }
    const proj = normalArray(foldIn(kProj, 0), [nProj, d]);
    for (let p = 0; p < nProj; p++) {
      const w = new Float64Array(d);
      let norm = 0;
      for (let j = 0; j < d; j++) norm += proj[p * d + j]! ** 2;
      for (let j = 0; j < d; j++) w[j] = proj[p * d + j]! / Math.sqrt(norm);
      dirs.push({ name: `projection ${p}`, w });
    }
    const alphaPerTest = alpha / dirs.length;
    const tests: ConservationTest[] = dirs.map(({ name, w }) => {
      const s1 = new Float64Array(n);
      const sr = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let u = 0;
        let v = 0;
        for (let j = 0; j < d; j++) {
          u += w[j]! * a1[i * d + j]!;
          v += w[j]! * ar[i * d + j]!;
        }
        s1[i] = u;
        sr[i] = v;
      }
      const r = ksTwoSample(s1, sr);
      if (options.method === 'dkwm') {
        const eps = 2 * dkwmEpsilon(n, alphaPerTest / 2);
        return { name, statistic: r.statistic, pValue: r.pValue, threshold: eps, passed: r.statistic <= eps };
      }
      return {
        name,
        statistic: r.statistic,
        pValue: r.pValue,
        threshold: alphaPerTest,
        passed: r.pValue >= alphaPerTest,
      };
    });
    const movedFraction = moved / n;
    return {
      passed: tests.every((t) => t.passed) && movedFraction >= minMoved,
      movedFraction,
      tests,
      alphaPerTest,
    };
  } finally {
    x0.dispose();
    x1?.dispose();
    ref?.dispose();
  }
}

/** {@link checkTargetConservation} as an assertion: throws `TEST_FAILURE` with the failing tests. */
export function expectTargetConservation(
  options: ConservationOptions & { label?: string; seed?: number },
): ConservationReport {
  const r = checkTargetConservation(options);
  if (!r.passed) {
    const bad = r.tests
      .filter((t) => !t.passed)
      .map((t) => `${t.name}: D=${t.statistic.toPrecision(3)}, p=${t.pValue.toExponential(2)}`);
    const movedMsg =
      r.movedFraction < (options.minMovedFraction ?? 0.05)
        ? ` only ${(100 * r.movedFraction).toFixed(1)}% of chains moved (power check);`
        : '';
    throw new EbmError(
      'TEST_FAILURE',
      `${options.label ? `${options.label}: ` : ''}target not conserved:${movedMsg} ${bad.join('; ')}${options.seed !== undefined ? ` (seed ${options.seed}; rerun with EBM_SEED=${options.seed})` : ''}`,
      { value: r },
    );
  }
  return r;
}
