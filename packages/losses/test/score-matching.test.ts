import { foldIn, isEbmError, randomNormal, rngKey } from '@ebm/core';
import {
  expectNoLeaksSync,
  expectWithinStandardError,
  meanAndStandardError,
  testSeed,
} from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DenoisingScoreMatching, ScoreMatching, SlicedScoreMatching } from '../src/index.js';
import { MlpEnergy, num, StandardQuadratic } from './fixtures.js';

describe('exact score matching', () => {
  it('equals −d/2 in expectation for E = ½‖x‖² and x ~ N(0, I)', () => {
    // Per-row loss ½‖x‖² − d has variance d/2: se = √(d/2)/√n; false-fail rate 1e-4.
    const seed = testSeed('exact-sm-quadratic');
    const d = 3;
    const n = 4000;
    const x = randomNormal(rngKey(seed), [n, d]) as tf.Tensor2D;
    const loss = new ScoreMatching(new StandardQuadratic({ dim: d }));
    const out = loss.compute(x);
    expectWithinStandardError(num(out.metrics.loss), -d / 2, Math.sqrt(d / 2) / Math.sqrt(n), { seed });
    expect(num(out.metrics.hessianTrace)).toBeCloseTo(d, 5);
    tf.dispose([x, out.loss]);
  });

  it('matches a per-dimension Hessian trace computed by hand on an MLP', () => {
    const energy = new MlpEnergy(3, 8, 5);
    const x = randomNormal(rngKey(testSeed('exact-sm-mlp')), [16, 3]) as tf.Tensor2D;
    // Reference: tr ∇²E by D separate nested gradients.
    const ref = tf.tidy(() => {
      let tr: tf.Tensor = tf.zeros([16]);
      for (let i = 0; i < 3; i++) {
        const hi = tf.grad((v: tf.Tensor) =>
          tf.sum(tf.slice(energy.gradient(v as tf.Tensor2D), [0, i], [-1, 1])),
        )(x);
        tr = tf.add(tr, tf.reshape(tf.slice(hi, [0, i], [-1, 1]), [-1]));
      }
      const g = energy.gradient(x);
      return tf.mean(tf.sub(tf.mul(0.5, tf.sum(tf.square(g), 1)), tr)).dataSync()[0]!;
    });
    const out = new ScoreMatching(energy).compute(x);
    expect(num(out.metrics.loss)).toBeCloseTo(ref, 4);
    tf.dispose([x, out.loss]);
    energy.dispose();
  });

  it('refuses dimensions above maxDim with a clear error', () => {
    const loss = new ScoreMatching(new StandardQuadratic(), { maxDim: 4 });
    const x = tf.zeros([2, 5]) as tf.Tensor2D;
    try {
      loss.compute(x);
      expect.unreachable();
    } catch (e) {
      expect(isEbmError(e, 'INVALID_PARAM')).toBe(true);
      expect(String(e)).toMatch(/maxDim 4/);
      expect(String(e)).toMatch(/SlicedScoreMatching/);
    }
    x.dispose();
  });
});

describe('sliced score matching', () => {
  for (const projection of ['rademacher', 'gaussian', 'sphere'] as const) {
    it(`is unbiased for the exact objective (${projection} projections)`, () => {
      // K independent SSM estimates on one batch; their mean must match the exact loss within z·sd/√K
      // (false-fail rate 1e-4 per projection type).
      const seed = testSeed(`ssm-${projection}`);
      const energy = new MlpEnergy(3, 16, 7);
      const x = randomNormal(rngKey(seed), [64, 3]) as tf.Tensor2D;
      const exact = new ScoreMatching(energy).compute(x);
      const ssm = new SlicedScoreMatching(energy, { projection, nProjections: 2 });
      const k = 150;
      const vals: number[] = [];
      for (let i = 0; i < k; i++) {
        const o = ssm.compute(x, { key: foldIn(rngKey(seed), i) });
        vals.push(num(o.metrics.loss));
        o.loss.dispose();
      }
      const { mean, se } = meanAndStandardError(vals);
      expectWithinStandardError(mean, num(exact.metrics.loss), se, { seed, label: projection });
      // and not trivially equal: the estimator has variance
      expect(se).toBeGreaterThan(0);
      tf.dispose([x, exact.loss]);
      energy.dispose();
    });
  }

  it('the variance-reduced form has the same expectation', () => {
    const seed = testSeed('ssm-vr');
    const energy = new MlpEnergy(3, 16, 9);
    const x = randomNormal(rngKey(seed), [64, 3]) as tf.Tensor2D;
    const exact = num(new ScoreMatching(energy).compute(x).metrics.loss);
    const plain = new SlicedScoreMatching(energy, { projection: 'gaussian' });
    const vr = new SlicedScoreMatching(energy, { projection: 'gaussian', varianceReduction: true });
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 100; i++) {
      const key = foldIn(rngKey(seed), i);
      const o1 = plain.compute(x, { key });
      const o2 = vr.compute(x, { key });
      a.push(num(o1.metrics.loss));
      b.push(num(o2.metrics.loss));
      tf.dispose([o1.loss, o2.loss]);
    }
    const sb = meanAndStandardError(b);
    expectWithinStandardError(sb.mean, exact, sb.se, { seed });
    expect(meanAndStandardError(a).se).toBeGreaterThan(0);
    x.dispose();
    energy.dispose();
  });
});

describe('denoising score matching', () => {
  it('has the correct sign: its gradient pulls the energy down on the data', () => {
    // For E = ½‖x − μ‖² and data at 0, the DSM optimum is μ = 0. Starting at μ = 1 the gradient ∂L/∂μ must be
    // positive (descent moves μ towards the data), unlike TorchEBM's inverted target.
    const seed = testSeed('dsm-sign');
    const mu = tf.variable(tf.tensor1d([1, 1]));
    class Shifted extends StandardQuadratic {
      protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
        return super.computeEnergy(tf.sub(x, mu) as tf.Tensor2D);
      }
    }
    const x = tf.mul(randomNormal(rngKey(seed), [2000, 2]), 0.3) as tf.Tensor2D;
    const loss = new DenoisingScoreMatching(new Shifted({ dim: 2 }), { sigma: 0.1, seed });
    const { grads, value } = tf.variableGrads(() => loss.compute(x).loss, [mu]);
    const g = grads[mu.name]!.dataSync();
    expect(g[0]).toBeGreaterThan(0.5);
    expect(g[1]).toBeGreaterThan(0.5);
    tf.dispose([x, value, mu]);
    tf.dispose(grads);
  });

  it('does not leak tensors', () => {
    const energy = new MlpEnergy(2, 8, 3);
    const x = randomNormal(rngKey(1), [32, 2]) as tf.Tensor2D;
    const losses = [
      new DenoisingScoreMatching(energy),
      new SlicedScoreMatching(energy, { nProjections: 3 }),
      new ScoreMatching(energy, { energyL2: 0.1 }),
    ];
    for (const l of losses) {
      expectNoLeaksSync(() => l.compute(x), { label: l.name });
      expectNoLeaksSync(
        () => {
          const r = tf.variableGrads(() => l.compute(x).loss, energy.trainableVariables);
          return r;
        },
        { label: `${l.name} grads` },
      );
    }
    x.dispose();
    energy.dispose();
  });
});
