import { type Loss, type LossContext, randomNormal, rngKey } from '@ebm/core';
import { expectEbmErrorAsync, expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type BaseLoss,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  ExponentialMovingAverage,
  fit,
  GaussianMixtureNoise,
  GaussianNoise,
  NoiseContrastiveEstimation,
  ParallelTemperingCD,
  PersistentContrastiveDivergence,
  ReplayBuffer,
  ScoreMatching,
  SlicedScoreMatching,
  type TrainingCheckpoint,
} from '../src/index.js';
import { GaussianEnergy, Mala, ReplicaExchange } from './fixtures.js';

describe('unknown option names', () => {
  const energy = new GaussianEnergy(2);
  const sampler = new Mala(energy, 0.1);
  const noise = new GaussianNoise({ mean: [0, 0] });
  const cases: [string, (o: Record<string, unknown>) => unknown, Record<string, unknown>, string][] = [
    [
      'ContrastiveDivergence',
      (o) => new ContrastiveDivergence(energy, { sampler, ...o }),
      { k_steps: 3 },
      'k',
    ],
    [
      'PersistentContrastiveDivergence',
      (o) => new PersistentContrastiveDivergence(energy, { sampler, ...o }),
      { buffer_size: {} },
      'buffer',
    ],
    [
      'ParallelTemperingCD',
      (o) => new ParallelTemperingCD(energy, { sampler, ...o }),
      { persitent: true },
      'persistent',
    ],
    ['ScoreMatching', (o) => new ScoreMatching(energy, o), { max_dim: 3 }, 'maxDim'],
    ['SlicedScoreMatching', (o) => new SlicedScoreMatching(energy, o), { n_projections: 2 }, 'nProjections'],
    ['DenoisingScoreMatching', (o) => new DenoisingScoreMatching(energy, o), { sigam: 0.1 }, 'sigma'],
    [
      'NoiseContrastiveEstimation',
      (o) => new NoiseContrastiveEstimation(energy, { noise, ...o }),
      { noise_ratio: 2 },
      'noiseRatio',
    ],
    ['GaussianNoise', (o) => new GaussianNoise({ mean: [0, 0], ...o }), { cov: 1 }, 'std'],
    [
      'GaussianMixtureNoise',
      (o) => new GaussianMixtureNoise({ means: [[0, 0]], ...o }),
      { weight: [1] },
      'weights',
    ],
    ['ReplayBuffer', (o) => new ReplayBuffer(o), { buffer_size: 10 }, 'capacity'],
    ['ExponentialMovingAverage', (o) => new ExponentialMovingAverage([], o), { decya: 0.9 }, 'decay'],
  ];
  it.each(cases)('%s', async (name, make, bad, hint) => {
    const e = await expectEbmErrorAsync(() => make(bad));
    expect(e.code).toBe('INVALID_PARAM');
    expect(e.message).toContain(name);
    if (hint !== 'std') expect(e.message).toContain(`"${hint}"`);
    // { step_size } anywhere is rejected too (the sampler option given to a loss)
    if (name !== 'ExponentialMovingAverage') await expectEbmErrorAsync(() => make({ step_size: 0.1 }));
  });
  it('fit rejects { batch_size } / { lr } / { nsteps } and suggests the name', async () => {
    const loss = new DenoisingScoreMatching(energy);
    const data = tf.zeros([4, 2]) as tf.Tensor2D;
    for (const [bad, good] of [
      ['batch_size', 'batchSize'],
      ['lr', 'learningRate'],
      ['step', 'steps'],
    ] as const) {
      const e = await expectEbmErrorAsync(
        fit({ loss, optimizer: tf.train.sgd(0.1), data, steps: 1, [bad]: 2 } as never),
      );
      expect(e.message).toContain(`"${good}"`);
    }
    data.dispose();
  });
});

describe('sizes are guarded before allocating', () => {
  it('fit({ batchSize: 1e9 }), ReplayBuffer({ capacity: 1e9 }) fail fast', async () => {
    const energy = new GaussianEnergy(2);
    const loss = new DenoisingScoreMatching(energy);
    const data = tf.zeros([4, 2]) as tf.Tensor2D;
    const t0 = Date.now();
    const e = await expectEbmErrorAsync(
      fit({ loss, optimizer: tf.train.sgd(0.1), data, steps: 1, batchSize: 1e9 }),
    );
    expect(e.message).toMatch(/over the limit/);
    const r = new ReplayBuffer({ capacity: 2e8 });
    expect((await expectEbmErrorAsync(() => r.fill(8, rngKey(1)))).message).toMatch(/over the limit/);
    expect((await expectEbmErrorAsync(() => new ReplayBuffer({ capacity: 1e9 }))).message).toMatch(
      /over the limit/,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    data.dispose();
    energy.dispose();
  });
});

/** A Gaussian energy whose `failAt`-th energy evaluation throws. */
class ThrowingGaussian extends GaussianEnergy {
  calls = 0;
  failAt = Number.POSITIVE_INFINITY;
  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    if (++this.calls === this.failAt) throw new Error('energy failed mid-run');
    return super.computeEnergy(x);
  }
}

describe('no leaks when the energy throws mid-computation (every loss, compute and fit)', () => {
  const makers: [string, (e: GaussianEnergy) => BaseLoss][] = [
    ['CD', (e) => new ContrastiveDivergence(e, { sampler: new Mala(e, 0.1), k: 3 })],
    [
      'PCD',
      (e) =>
        new PersistentContrastiveDivergence(e, {
          sampler: new Mala(e, 0.1),
          k: 3,
          buffer: { capacity: 32, burnInSteps: 1 },
        }),
    ],
    [
      'PT-CD',
      (e) =>
        new ParallelTemperingCD(e, {
          sampler: new ReplicaExchange(e, 0.1, [1, 2]),
          k: 2,
          buffer: { capacity: 32 },
        }),
    ],
    ['SM', (e) => new ScoreMatching(e)],
    ['SSM', (e) => new SlicedScoreMatching(e, { nProjections: 2 })],
    ['DSM', (e) => new DenoisingScoreMatching(e, { sigma: 0.3 })],
    ['NCE', (e) => new NoiseContrastiveEstimation(e, { noise: new GaussianNoise({ mean: [0, 0], std: 2 }) })],
  ];
  it.each(makers)('%s', async (_name, make) => {
    const energy = new ThrowingGaussian(2);
    const loss = make(energy);
    const data = randomNormal(rngKey(1), [16, 2]) as tf.Tensor2D;
    loss.compute(data, { key: rngKey(0) }).loss.dispose(); // warm: fills buffers
    energy.calls = 0;
    loss.compute(data, { key: rngKey(0) }).loss.dispose();
    const perCall = energy.calls; // energy evaluations per compute: fail at the first, second, last
    const optimizer = tf.train.sgd(0.01); // (SGD keeps a learning-rate scalar from construction)
    for (const failAt of new Set([1, Math.min(2, perCall), perCall])) {
      await expectNoLeaks(() => {
        energy.calls = 0;
        energy.failAt = failAt;
        expect(() => loss.compute(data, { key: rngKey(2) })).toThrowError(/energy failed mid-run/);
      });
      await expectNoLeaks(async () => {
        energy.calls = 0;
        energy.failAt = failAt;
        await expect(fit({ loss, optimizer, data, steps: 2 })).rejects.toThrowError(/energy failed mid-run/);
      });
    }
    energy.failAt = Number.POSITIVE_INFINITY;
    optimizer.dispose();
    loss.dispose();
    energy.dispose();
    data.dispose();
  });
  it('constructing (and disposing) an NCE loss leaks nothing', async () => {
    const energy = new GaussianEnergy(2);
    const noise = new GaussianNoise({ mean: [0, 0] });
    await expectNoLeaks(() => {
      const l = new NoiseContrastiveEstimation(energy, { noise });
      l.logZ.dispose();
    });
    energy.dispose();
  });
});

function dsm(energy: GaussianEnergy) {
  return new DenoisingScoreMatching(energy, { sigma: 0.5 });
}
function pcd(energy: GaussianEnergy) {
  return new PersistentContrastiveDivergence(energy, {
    sampler: new Mala(energy, 0.1),
    k: 2,
    buffer: { capacity: 16 },
  });
}
async function values(vars: readonly tf.Variable[]): Promise<number[][]> {
  return Promise.all(vars.map(async (v) => Array.from(await v.data())));
}

describe('checkpoints: validate all, then restore all or nothing', () => {
  const data = randomNormal(rngKey(3), [32, 2]) as tf.Tensor2D;
  async function checkpointOf(make: (e: GaussianEnergy) => Loss, optimizer: tf.Optimizer, steps = 3) {
    const e = new GaussianEnergy(2);
    const r = await fit({ loss: make(e), optimizer, data, steps, seed: 1 });
    return JSON.parse(JSON.stringify(r.checkpoint)) as TrainingCheckpoint;
  }

  it('rejects mismatched checkpoints with reasons, changing nothing', async () => {
    const pcdAdam = await checkpointOf(pcd, tf.train.adam(0.01));
    const dsmSgd = await checkpointOf(dsm, tf.train.sgd(0.01));
    const energy = new GaussianEnergy(2, { mu: [0.25, -0.5] });
    const before = await values(energy.trainableVariables);
    const nanWeights = structuredClone(dsmSgd) as { weights: { data: unknown[] }[] };
    nanWeights.weights[0]!.data[0] = null; // JSON's NaN
    const proto = JSON.parse(
      JSON.stringify(dsmSgd).replace('{"version":1', '{"__proto__":{"x":1},"version":1'),
    );
    const cases: [string, () => Loss, tf.Optimizer, unknown, RegExp, string][] = [
      [
        'PCD checkpoint into DSM',
        () => dsm(energy),
        tf.train.adam(0.01),
        pcdAdam,
        /PersistentContrastiveDivergence loss/,
        'INVALID_PARAM',
      ],
      [
        'SGD checkpoint into Adam',
        () => dsm(energy),
        tf.train.adam(0.01),
        dsmSgd,
        /SGD optimizer; this run uses Adam/,
        'INVALID_PARAM',
      ],
      ['NaN weights', () => dsm(energy), tf.train.sgd(0.01), nanWeights, /not a finite number/, 'NON_FINITE'],
      [
        'step beyond steps',
        () => dsm(energy),
        tf.train.sgd(0.01),
        { ...dsmSgd, step: 1e9 },
        /beyond this run's steps/,
        'INVALID_PARAM',
      ],
      ['{ version: 1 }', () => dsm(energy), tf.train.sgd(0.01), { version: 1 }, /step/, 'INVALID_PARAM'],
      [
        'version 2',
        () => dsm(energy),
        tf.train.sgd(0.01),
        { ...dsmSgd, version: 2 },
        /version 1/,
        'INVALID_PARAM',
      ],
      ['__proto__ key', () => dsm(energy), tf.train.sgd(0.01), proto, /__proto__/, 'INVALID_PARAM'],
      [
        'bad buffer in a PCD checkpoint',
        () => pcd(energy),
        tf.train.adam(0.01),
        {
          ...pcdAdam,
          loss: {
            ...(pcdAdam.loss as object),
            buffer: { capacity: 16, dim: 2, pointer: 0, writes: 0, data: [1] },
          },
        },
        /wrong length/,
        'SHAPE_MISMATCH',
      ],
    ];
    for (const [label, makeLoss, optimizer, ckpt, re, code] of cases) {
      const e = await expectEbmErrorAsync(
        fit({ loss: makeLoss(), optimizer, data, steps: 10, resumeFrom: ckpt as never }),
      );
      expect(e.code, label).toBe(code);
      expect(e.message, label).toMatch(re);
      expect(await values(energy.trainableVariables), label).toEqual(before);
    }
    energy.dispose();
  });

  it('a failed restore leaves the PCD replay buffer as it was', async () => {
    const energy = new GaussianEnergy(2);
    const loss = pcd(energy);
    await fit({ loss, optimizer: tf.train.adam(0.01), data, steps: 2, seed: 2 });
    const buf = await loss.buffer.save();
    const good = await checkpointOf(pcd, tf.train.adam(0.01));
    const bad = { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, shape: [3] } : w)) };
    await expectEbmErrorAsync(
      fit({ loss, optimizer: tf.train.adam(0.01), data, steps: 10, resumeFrom: bad as never }),
    );
    expect(await loss.buffer.save()).toEqual(buf);
    loss.dispose();
    energy.dispose();
  });
});

describe('training faults', () => {
  it('NaN data is a NON_FINITE error naming the data, not a roll-back', async () => {
    const energy = new GaussianEnergy(2);
    const rows = [
      [0, 1],
      [1, Number.NaN],
      [2, 2],
    ];
    const data = tf.tensor2d(rows);
    const rollbacks: unknown[] = [];
    const e = await expectEbmErrorAsync(
      fit({
        loss: dsm(energy),
        optimizer: tf.train.sgd(0.01),
        data,
        steps: 3,
        onRollback: (r) => void rollbacks.push(r),
      }),
    );
    expect(e.code).toBe('NON_FINITE');
    expect(e.argument).toBe('data');
    expect(e.message).toMatch(/1 row\(s\) of the batch of step 0/);
    expect(rollbacks).toEqual([]);
    data.dispose();
    energy.dispose();
  });

  /** A DSM loss whose loss is NaN at the listed calls. */
  function flaky(energy: GaussianEnergy, nanCalls: number[]): Loss {
    const inner = dsm(energy);
    let calls = 0;
    return {
      name: 'Flaky',
      energy,
      compute(x: tf.Tensor2D, context?: LossContext) {
        const out = inner.compute(x, context);
        if (nanCalls.includes(calls++)) {
          const nan = tf.mul(out.loss, Number.NaN) as tf.Scalar;
          out.loss.dispose();
          return { ...out, loss: nan, metrics: { ...out.metrics, loss: nan } };
        }
        return out;
      },
    };
  }

  it('maxRollbacks counts per incident, not per run', async () => {
    const energy = new GaussianEnergy(2);
    const data = randomNormal(rngKey(4), [16, 2]) as tf.Tensor2D;
    // Three separate incidents of one roll-back each, with maxRollbacks: 1.
    const res = await fit({
      loss: flaky(energy, [3, 9, 15]),
      optimizer: tf.train.sgd(0.01),
      data,
      steps: 15,
      checkpointEvery: 2,
      maxRollbacks: 1,
    });
    expect(res.step).toBe(15);
    expect(res.rollbacks.map((r) => [r.attempt, r.incident])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    // Two roll-backs in one incident exceed maxRollbacks: 1.
    const e = await expectEbmErrorAsync(
      fit({
        loss: flaky(energy, [3, 4]),
        optimizer: tf.train.sgd(0.01),
        data,
        steps: 8,
        checkpointEvery: 2,
        maxRollbacks: 1,
      }),
    );
    expect(e.code).toBe('DIVERGED');
    data.dispose();
    energy.dispose();
  });

  it('a learning rate lowered by onRollback is kept under a learningRate schedule', async () => {
    const energy = new GaussianEnergy(2);
    const data = randomNormal(rngKey(5), [16, 2]) as tf.Tensor2D;
    const optimizer = tf.train.sgd(0.1);
    const seen: number[] = [];
    await fit({
      loss: flaky(energy, [3]),
      optimizer,
      data,
      steps: 6,
      learningRate: 0.1,
      onRollback: () => {
        (optimizer as unknown as { learningRate: number }).learningRate /= 2;
      },
      onStep: () => void seen.push((optimizer as unknown as { learningRate: number }).learningRate),
    });
    expect(seen.at(-1)).toBeCloseTo(0.05, 12);
    data.dispose();
    energy.dispose();
  });
});
