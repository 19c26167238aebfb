import { isEbmError, medianDistance, mmdRbf, rngKey } from '@ebm/core';
import { expectNoLeaksSync } from '@ebm/core/testing';
import { eightGaussians, twoMoons } from '@ebm/datasets';
import { TimeConditionedMLP } from '@ebm/models';
import { FlowSampler } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ExponentialMovingAverage, FlowMatchingLoss, fit } from '../src/index.js';

/** Closed-form marginal velocity of the linear path from N(0, I) to N(μ, s²I): v = μ + (ts² − (1−t))(x − tμ)/c_t. */
const MU = [1, -1];
const S2 = 0.25;
function exactVelocity(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const tc = tf.reshape(t, [-1, 1]);
    const u = tf.sub(1, tc);
    const c = tf.add(tf.mul(tf.square(tc), S2), tf.square(u));
    const y = tf.sub(x, tf.mul(tc, tf.tensor2d([MU])));
    return tf.add(tf.tensor2d([MU]), tf.div(tf.mul(tf.sub(tf.mul(tc, S2), u), y), c)) as tf.Tensor2D;
  });
}

describe('FlowMatchingLoss', () => {
  it('the marginal velocity minimises it (perturbed fields score higher); no leaks', () => {
    const data = tf.tidy(() =>
      tf.add(tf.mul(tf.randomNormal([4096, 2], 0, 1, 'float32', 3), Math.sqrt(S2)), tf.tensor2d([MU])),
    ) as tf.Tensor2D;
    const value = (
      f: (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D,
      timeSampler: 'uniform' | 'logitNormal',
    ) => {
      const loss = new FlowMatchingLoss(f, { timeSampler, trainEps: 0.01 });
      const out = loss.compute(data, { key: rngKey(7) });
      const v = out.loss.dataSync()[0]!;
      out.loss.dispose();
      return v;
    };
    for (const ts of ['uniform', 'logitNormal'] as const) {
      const best = value(exactVelocity, ts);
      expect(value((x, t) => tf.tidy(() => tf.mul(exactVelocity(x, t), 1.1)), ts)).toBeGreaterThan(best);
      expect(value((x, t) => tf.tidy(() => tf.add(exactVelocity(x, t), 0.1)), ts)).toBeGreaterThan(best);
    }
    const loss = new FlowMatchingLoss(exactVelocity, { lossWeight: 'likelihood', trainEps: 0.01 });
    expectNoLeaksSync(() => loss.compute(data, { key: rngKey(1) }).loss);
    data.dispose();
  });

  it('bad options raise EbmErrors', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    bad(() => new FlowMatchingLoss(exactVelocity, { t_sampler: 'uniform' } as never));
    bad(() => new FlowMatchingLoss(exactVelocity, { timeSampler: 'beta' as never }));
    bad(() => new FlowMatchingLoss(exactVelocity, { trainEps: 0.7 }));
    bad(() => new FlowMatchingLoss(exactVelocity, { lossWeight: 'snr' as never }));
    bad(() => new FlowMatchingLoss(42 as never));
    bad(() => new TimeConditionedMLP({ dim: 2, width: 3 } as never));
  });

  it('EMA follows θ_ema ← d·θ_ema + (1 − d)·θ and swaps weights back', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const ema = new ExponentialMovingAverage([v], { decay: 0.5 });
    v.assign(tf.tensor1d([3, 4]));
    ema.update();
    const seen = await ema.withAveraged(() => Array.from(v.dataSync()));
    expect(seen).toEqual([2, 3]);
    expect(Array.from(v.dataSync())).toEqual([3, 4]);
    ema.dispose();
    v.dispose();
  });

  // Smoke-sized training (the full runs are in the curriculum example `flow-matching-2d`): a TimeConditionedMLP
  // trained with fit + FlowMatchingLoss (400 steps), sampled with FlowSampler (rk4, 32 steps). Margin (RBF bandwidth: the median distance): MMD² to held-out
  // data below 20% of the noise baseline's.
  it.each([
    ['eight gaussians', (n: number, seed: number) => eightGaussians({ nSamples: n, seed })],
    ['two moons', (n: number, seed: number) => twoMoons({ nSamples: n, seed })],
  ] as const)('trains on %s: MMD² to held-out data far below the noise baseline', async (_n, make) => {
    const train = make(4096, 1).toTensor();
    const heldOut = make(400, 2);
    const model = new TimeConditionedMLP({ dim: 2, widths: [64, 64], seed: 3 });
    const loss = new FlowMatchingLoss(model);
    const res = await fit({
      loss,
      optimizer: tf.train.adam(3e-3),
      data: train,
      batchSize: 256,
      steps: 400,
      seed: 5,
    });
    expect(res.history.at(-1)!.loss).toBeLessThan(res.history[0]!.loss);
    const sampler = new FlowSampler(model, { integrator: 'rk4', nSteps: 32 });
    const r = await sampler.sample({ nSamples: 400, seed: 9 });
    const samples = (await r.samples.data()) as Float32Array;
    const noise = tf.randomNormal([400, 2], 0, 1, 'float32', 4);
    const noiseData = (await noise.data()) as Float32Array;
    const bandwidth = medianDistance(heldOut.data, heldOut.data, 2);
    const mmdModel = mmdRbf(samples, heldOut.data, 2, { bandwidth });
    const mmdNoise = mmdRbf(noiseData, heldOut.data, 2, { bandwidth });
    const floor = mmdRbf(make(400, 7).data, heldOut.data, 2, { bandwidth });
    console.log(
      `[flow-matching ${_n}] MMD² model ${mmdModel.toFixed(5)} noise ${mmdNoise.toFixed(5)} data-vs-data ${floor.toFixed(5)}`,
    );
    expect(mmdModel).toBeLessThan(0.2 * mmdNoise);
    tf.dispose([train, r.samples, noise]);
    model.dispose();
  });
});
