import { isEbmError, type Loss, type LossContext, type LossOutput, randomNormal, rngKey } from '@ebm/core';
import { testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type BaseLoss,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  fit,
  GaussianNoise,
  NoiseContrastiveEstimation,
  ParallelTemperingCD,
  PersistentContrastiveDivergence,
  ScoreMatching,
  SlicedScoreMatching,
  type StepMetrics,
  type TrainingCheckpoint,
  trainableVariables,
} from '../src/index.js';
import { GaussianEnergy, Mala, MlpEnergy, ReplicaExchange } from './fixtures.js';

function makePcd(energy: GaussianEnergy): PersistentContrastiveDivergence {
  return new PersistentContrastiveDivergence(energy, {
    sampler: new Mala(energy, 0.1),
    k: 3,
    buffer: { capacity: 200, reinitProbability: 0.1, burnInSteps: 2 },
  });
}

function weightsOf(vars: tf.Variable[]): number[][] {
  return vars.map((v) => Array.from(v.dataSync()));
}

describe('fit', () => {
  it('resumes bit-identically from a JSON checkpoint (PCD + Adam + minibatches)', async () => {
    const seed = testSeed('resume');
    const data = tf.add(randomNormal(rngKey(seed), [300, 2]), 1) as tf.Tensor2D;
    const common = { data, batchSize: 64, seed, checkpointEvery: 5 };

    // Uninterrupted run of 20 steps.
    const e1 = new GaussianEnergy(2);
    const l1 = makePcd(e1);
    const o1 = tf.train.adam(0.05);
    const r1 = await fit({ ...common, loss: l1, optimizer: o1, steps: 20 });
    const final1 = weightsOf(e1.trainableVariables);
    const buf1 = l1.buffer.contents();

    // Interrupted at 10, saved as JSON, resumed with fresh objects.
    const e2 = new GaussianEnergy(2);
    const l2 = makePcd(e2);
    const o2 = tf.train.adam(0.05);
    let saved = '';
    await fit({
      ...common,
      loss: l2,
      optimizer: o2,
      steps: 10,
      onCheckpoint: (c) => {
        saved = JSON.stringify(c);
      },
    });
    const ckpt = JSON.parse(saved) as TrainingCheckpoint;
    expect(ckpt.step).toBe(10);
    expect(ckpt.optimizer!.length).toBeGreaterThan(1);
    expect(Object.keys(ckpt.optimizerExtra)).toEqual(['accBeta1', 'accBeta2']);
    l2.dispose();
    e2.dispose();
    o2.dispose();
    const e3 = new GaussianEnergy(2, { mu: [5, 5] }); // different init: must be overwritten
    const l3 = makePcd(e3);
    const o3 = tf.train.adam(0.05);
    const r3 = await fit({ ...common, loss: l3, optimizer: o3, steps: 20, resumeFrom: ckpt });
    expect(r3.step).toBe(20);
    expect(weightsOf(e3.trainableVariables)).toEqual(final1);
    const buf3 = l3.buffer.contents();
    expect(Array.from(buf3.dataSync())).toEqual(Array.from(buf1.dataSync()));
    expect(r3.history.map((m) => m.loss)).toEqual(r1.history.slice(10).map((m) => m.loss));
    tf.dispose([buf1, buf3, data]);
    for (const [l, e, o] of [
      [l1, e1, o1],
      [l3, e3, o3],
    ] as const) {
      l.dispose();
      e.dispose();
      o.dispose();
    }
  });

  it('reports loss, E⁺, E⁻ and the gradient norm per step, and progress', async () => {
    const energy = new GaussianEnergy(2);
    const loss = new ContrastiveDivergence(energy, { sampler: new Mala(energy, 0.1), k: 2 });
    const data = randomNormal(rngKey(2), [64, 2]) as tf.Tensor2D;
    const steps: StepMetrics[] = [];
    const progress: number[] = [];
    await fit({
      loss,
      optimizer: tf.train.sgd(0.01),
      data: [data],
      steps: 4,
      progressEvery: 2,
      onStep: (m) => {
        steps.push(m);
      },
      onProgress: (p) => progress.push(p.step),
    });
    expect(steps.map((m) => m.step)).toEqual([0, 1, 2, 3]);
    for (const m of steps) {
      expect(Number.isFinite(m.loss) && Number.isFinite(m.gradNorm)).toBe(true);
      expect(m.loss).toBeCloseTo(m.energyPos! - m.energyNeg!, 5);
      expect(m.gradNorm).toBeGreaterThan(0);
    }
    expect(progress).toEqual([2, 4]);
    data.dispose();
    energy.dispose();
  });

  it('clips the gradient norm', async () => {
    const energy = new GaussianEnergy(2);
    const loss = new ScoreMatching(energy);
    const data = tf.add(randomNormal(rngKey(3), [64, 2]), 5) as tf.Tensor2D;
    const before = weightsOf(energy.trainableVariables).flat();
    const res = await fit({ loss, optimizer: tf.train.sgd(1), data, steps: 1, clipNorm: 0.01 });
    const after = weightsOf(energy.trainableVariables).flat();
    const moved = Math.hypot(...after.map((v, i) => v - before[i]!));
    expect(res.history[0]!.gradNorm).toBeGreaterThan(1); // raw norm is large…
    expect(moved).toBeLessThanOrEqual(0.01 * (1 + 1e-5)); // …the update is clipped
    expect(moved).toBeGreaterThan(0.009);
    data.dispose();
    energy.dispose();
  });

  it('rolls back to the last good checkpoint on a non-finite loss and reports it', async () => {
    const energy = new GaussianEnergy(2);
    const inner = new DenoisingScoreMatching(energy, { sigma: 0.5 });
    let calls = 0;
    const flaky: Loss = {
      name: 'Flaky',
      energy,
      compute(data: tf.Tensor2D, context?: LossContext) {
        const out = inner.compute(data, context);
        if (calls++ === 7) {
          const nan = tf.mul(out.loss, Number.NaN) as tf.Scalar;
          out.loss.dispose();
          // a loss written for 0.1 (host numbers in metrics) still works with fit
          return {
            loss: nan,
            metrics: { ...out.metrics, loss: Number.NaN } as unknown as LossOutput['metrics'],
          };
        }
        return out;
      },
    };
    const data = randomNormal(rngKey(5), [64, 2]) as tf.Tensor2D;
    const events: unknown[] = [];
    const res = await fit({
      loss: flaky,
      optimizer: tf.train.adam(0.01),
      data,
      steps: 12,
      checkpointEvery: 5,
      onRollback: (e) => {
        events.push(e);
      },
    });
    expect(res.rollbacks).toEqual([{ step: 7, restoredStep: 5, reason: 'loss', attempt: 1 }]);
    expect(events).toEqual(res.rollbacks);
    expect(res.step).toBe(12);
    // steps 5 and 6 ran twice (before and after the roll-back)
    expect(res.history.map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 5, 6, 7, 8, 9, 10, 11]);
    expect(weightsOf(energy.trainableVariables).flat().every(Number.isFinite)).toBe(true);
    data.dispose();
    energy.dispose();
  });

  it('rolls back to the initial state (Adam slots released, no leak)', async () => {
    const energy = new GaussianEnergy(2);
    const inner = new DenoisingScoreMatching(energy, { sigma: 0.5 });
    let calls = 0;
    const flaky: Loss = {
      name: 'Flaky0',
      energy,
      compute(data: tf.Tensor2D, context?: LossContext) {
        const out = inner.compute(data, context);
        return calls++ === 2
          ? {
              loss: out.loss,
              metrics: { ...out.metrics, energyPos: Number.NaN } as unknown as LossOutput['metrics'],
            }
          : out;
      },
    };
    const data = randomNormal(rngKey(5), [32, 2]) as tf.Tensor2D;
    const optimizer = tf.train.adam(0.01);
    const init = weightsOf(energy.trainableVariables);
    const before = tf.memory().numTensors;
    const res = await fit({ loss: flaky, optimizer, data, steps: 4, checkpointEvery: 50 });
    expect(res.rollbacks).toEqual([{ step: 2, restoredStep: 0, reason: 'energyPos', attempt: 1 }]);
    expect(res.history.map((m) => m.step)).toEqual([0, 1, 0, 1, 2, 3]);
    expect(weightsOf(energy.trainableVariables)).not.toEqual(init);
    // Adam holds two slots per variable (3 variables); nothing else may remain.
    expect(tf.memory().numTensors - before).toBe(6);
    optimizer.dispose();
    data.dispose();
    energy.dispose();
  });

  it('throws DIVERGED when the loss stays non-finite', async () => {
    const energy = new GaussianEnergy(2);
    const broken: Loss = {
      name: 'Broken',
      energy,
      compute: (data: tf.Tensor2D) => ({
        loss: tf.mul(tf.mean(energy.energy(data)), Number.POSITIVE_INFINITY) as tf.Scalar,
        metrics: {},
      }),
    };
    const data = randomNormal(rngKey(5), [8, 2]) as tf.Tensor2D;
    try {
      await fit({ loss: broken, optimizer: tf.train.sgd(0.1), data, steps: 5, maxRollbacks: 2 });
      expect.unreachable();
    } catch (e) {
      expect(isEbmError(e, 'DIVERGED')).toBe(true);
      expect(String(e)).toMatch(/after 2 roll-back/);
    }
    data.dispose();
    energy.dispose();
  });

  it('validates its options', async () => {
    const energy = new GaussianEnergy(2);
    const loss = new DenoisingScoreMatching(energy);
    const data = randomNormal(rngKey(6), [8, 2]) as tf.Tensor2D;
    const optimizer = tf.train.sgd(0.1);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ loss: {} }, /loss/],
      [{ optimizer: {} }, /optimizer/],
      [{ steps: -1 }, /steps/],
      [{ clipNorm: 0 }, /clipNorm/],
      [{ variables: [] }, /no trainable variables/],
      [{ batchSize: 0 }, /batchSize/],
    ];
    for (const [patch, re] of bad) {
      await expect(fit({ loss, optimizer, data, steps: 1, ...patch } as never)).rejects.toThrow(re);
    }
    const wrongCkpt = {
      version: 1,
      step: 0,
      key: [0, 0],
      attempt: 0,
      weights: [],
      optimizer: null,
      optimizerExtra: {},
      loss: null,
    };
    await expect(fit({ loss, optimizer, data, steps: 1, resumeFrom: wrongCkpt as never })).rejects.toThrow(
      /SHAPE_MISMATCH/,
    );
    data.dispose();
    energy.dispose();
  });

  it('stops on an AbortSignal with ABORTED', async () => {
    const energy = new GaussianEnergy(2);
    const loss = new DenoisingScoreMatching(energy);
    const data = randomNormal(rngKey(6), [16, 2]) as tf.Tensor2D;
    const ctrl = new AbortController();
    let last = -1;
    await expect(
      fit({
        loss,
        optimizer: tf.train.sgd(0.01),
        data,
        steps: 100,
        signal: ctrl.signal,
        onStep: (m) => {
          last = m.step;
          if (m.step === 2) ctrl.abort();
        },
      }),
    ).rejects.toThrow(/ABORTED/);
    expect(last).toBe(2);
    data.dispose();
    energy.dispose();
  });

  it('accepts function and iterator batch sources and disposes their batches', async () => {
    const energy = new GaussianEnergy(2);
    const loss = new DenoisingScoreMatching(energy);
    function* gen() {
      for (let i = 0; ; i++) yield randomNormal(rngKey(i), [16, 2]) as tf.Tensor2D;
    }
    const opt = tf.train.sgd(0.01);
    const z = tf.zeros([4, 2]) as tf.Tensor2D;
    await fit({ loss, optimizer: opt, data: [z], steps: 1 }); // creates SGD's learning-rate scalar
    z.dispose();
    const before = tf.memory().numTensors;
    await fit({ loss, optimizer: opt, data: gen(), steps: 3 });
    await fit({
      loss,
      optimizer: opt,
      data: (s) => randomNormal(rngKey(s), [16, 2]) as tf.Tensor2D,
      steps: 3,
    });
    expect(tf.memory().numTensors).toBe(before);
    await expect(fit({ loss, optimizer: opt, data: [][Symbol.iterator](), steps: 1 })).rejects.toThrow(
      /ended/,
    );
    await expect(fit({ loss, optimizer: opt, data: 42 as never, steps: 1 })).rejects.toThrow(/INVALID_PARAM/);
    energy.dispose();
  });
});

describe('no leaks across 100 training steps', () => {
  const makers: [string, (e: MlpEnergy) => BaseLoss][] = [
    ['CD', (e) => new ContrastiveDivergence(e, { sampler: new Mala(e, 0.01), k: 2, energyL2: 0.1 })],
    [
      'PCD',
      (e) =>
        new PersistentContrastiveDivergence(e, {
          sampler: new Mala(e, 0.01),
          k: 2,
          buffer: { capacity: 50 },
        }),
    ],
    [
      'PT-CD',
      (e) =>
        new ParallelTemperingCD(e, {
          sampler: new ReplicaExchange(e, 0.01, [1, 2]),
          k: 1,
          buffer: { capacity: 50 },
        }),
    ],
    ['exact SM', (e) => new ScoreMatching(e)],
    ['sliced SM', (e) => new SlicedScoreMatching(e, { projection: 'sphere', nProjections: 2 })],
    ['denoising SM', (e) => new DenoisingScoreMatching(e, { energyL2: 0.01 })],
    ['NCE', (e) => new NoiseContrastiveEstimation(e, { noise: new GaussianNoise({ mean: [0, 0], std: 2 }) })],
  ];
  for (const [label, make] of makers) {
    it(label, async () => {
      const energy = new MlpEnergy(2, 8, 11);
      const loss = make(energy);
      const data = randomNormal(rngKey(testSeed(`leak-${label}`)), [100, 2]) as tf.Tensor2D;
      const optimizer = tf.train.adam(1e-3);
      // warm-up: optimizer slots and the replay buffer are created on the first step
      await fit({ loss, optimizer, data, batchSize: 16, steps: 1 });
      const before = tf.memory().numTensors;
      const res = await fit({ loss, optimizer, data, batchSize: 16, steps: 100, checkpointEvery: 25 });
      expect(res.history).toHaveLength(100);
      expect(tf.memory().numTensors, label).toBe(before);
      expect(trainableVariables(loss).length).toBe(label === 'NCE' ? 7 : 6);
      loss.dispose();
      optimizer.dispose();
      data.dispose();
      energy.dispose();
    });
  }
});
