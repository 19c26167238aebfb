import { EbmError, type Loss, rngKey } from '@ebm/core';
import { expectNoLeaks, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContrastiveDivergence,
  fit,
  GaussianNoise,
  NoiseContrastiveEstimation,
  PersistentContrastiveDivergence,
  type RollbackEvent,
  RunawayDetector,
} from '../src/index.js';
import { GaussianEnergy, gaussianData, Mala } from './fixtures.js';

/**
 * A deterministic finite divergence: one variable v, loss −v (SGD at rate η pushes v up by η per
 * step), energies E⁺ = −(eᵛ − 1)/2 and E⁻ = +(eᵛ − 1)/2, so the gap eᵛ − 1 grows exponentially and stays
 * finite for hundreds of steps — what TorchEBM's recipe does to the CD gap, without the sampler.
 */
class RunawayLoss implements Loss {
  readonly name = 'RunawayLoss';
  readonly energy = {} as Loss['energy'];
  readonly v = tf.tidy(() => tf.variable(tf.scalar(0), true, `runaway-v-${Math.random()}`));
  compute() {
    return tf.tidy(() => {
      const half = tf.mul(tf.sub(tf.exp(this.v), 1), 0.5) as tf.Scalar;
      const loss = tf.neg(this.v) as tf.Scalar;
      return { loss, metrics: { loss, energyPos: tf.neg(half) as tf.Scalar, energyNeg: half } };
    });
  }
  dispose() {
    this.v.dispose();
  }
}

// TorchEBM's documented recipe in @ebm (two moons, CD-10, h = 0.1, λ = 0.001, Adam 1e-3, batch 256, seed 0,
// wasm): mean E(x⁻) − E(x⁺) every 10 updates from update 0 (`torchebm-recipe` example).
const TORCHEBM_GAP = [
  0.37, 0.42, 0.36, 0.24, 0.22, 0.18, 0.18, 0.17, 0.28, 0.38, 0.37, 0.65, 1.11, 4.99, 27.75, 87.15, 203.91,
  329.74, 350.95, 348.51, 330.01, 324.88, 350.19, 332.76, 370.43,
];

describe('RunawayDetector', () => {
  it("fires on TorchEBM's gap trajectory, after the jump and before the regulariser's bound", () => {
    const d = new RunawayDetector();
    let fired = -1;
    for (let t = 0; t < TORCHEBM_GAP.length * 10 && fired < 0; t++) {
      // piecewise-linear between the recorded points
      const i = Math.floor(t / 10);
      const g =
        TORCHEBM_GAP[i]! + ((TORCHEBM_GAP[i + 1] ?? TORCHEBM_GAP[i]!) - TORCHEBM_GAP[i]!) * ((t % 10) / 10);
      if (d.update({ energyPos: 0, energyNeg: g })) fired = t;
      if (t % 50 === 49 && d.calm()) d.accept();
    }
    expect(fired).toBeGreaterThan(130);
    expect(fired).toBeLessThan(170);
  });

  it('does not fire on a healthy gap: noise of a few units and slow growth to 30 over 2000 updates', () => {
    const d = new RunawayDetector();
    let s = 1;
    for (let t = 0; t < 2000; t++) {
      s = (s * 16807) % 2147483647;
      const noise = (s / 2147483647 - 0.5) * 8;
      expect(d.update({ energyPos: -1, energyNeg: -1 + noise + (30 * t) / 2000 })).toBeUndefined();
      if (t % 50 === 49) {
        expect(d.calm()).toBe(true);
        d.accept();
      }
    }
  });

  it('ignores losses without both energies, and checks its options', () => {
    const d = new RunawayDetector();
    for (let t = 0; t < 100; t++) expect(d.update({ loss: -1e6 * t, energyPos: 1e6 * t })).toBeUndefined();
    expect(() => new RunawayDetector({ ratio: 1 })).toThrow(EbmError);
    expect(() => new RunawayDetector({ ratoi: 5 } as never)).toThrow(/ratio/);
  });
});

describe('fit: the runaway guard', () => {
  let data: tf.Tensor2D;
  beforeAll(() => {
    data = gaussianData(
      rngKey(testSeed('runaway-data')),
      1000,
      [1, -2],
      [
        [1, 0.5],
        [0.5, 2],
      ],
    ).x;
  });
  afterAll(() => data.dispose());

  it('rolls back a finite divergence, calls onRollback, and throws DIVERGED naming the energy gap', async () => {
    let events: RollbackEvent[] = [];
    // (expectNoLeaks runs the body twice: a fresh loss and optimizer each time)
    await expectNoLeaks(async () => {
      const loss = new RunawayLoss();
      const optimizer = tf.train.sgd(0.25);
      events = [];
      const run = fit({
        loss,
        optimizer,
        variables: [loss.v],
        data,
        batchSize: 8,
        steps: 200,
        checkpointEvery: 5,
        onRollback: (e) => {
          events.push(e);
        },
      });
      await expect(run).rejects.toThrow(/energy gap \|E⁻ − E⁺\| ran away/);
      optimizer.dispose();
      loss.dispose();
    });
    // maxRollbacks (3) roll-backs with onRollback, then DIVERGED
    expect(events.length).toBe(3);
    for (const e of events) {
      expect(e.reason).toBe('energyGap');
      // the gap eᵛ − 1 passes 100 (= ratio × floor) around v ≈ 4.6, i.e. about 19–22 steps of SGD at 0.25
      expect(e.step).toBeGreaterThan(15);
      expect(e.step).toBeLessThan(30);
      expect(e.restoredStep).toBeLessThan(e.step);
      expect(e.restoredStep % 5).toBe(0);
    }
  });

  it('runawayGuard: false lets the finite divergence run to the end (the old behaviour)', async () => {
    const loss = new RunawayLoss();
    const r = await fit({
      loss,
      optimizer: tf.train.adam(0.05),
      variables: [loss.v],
      data,
      batchSize: 8,
      steps: 200,
      runawayGuard: false,
    });
    expect(r.rollbacks).toEqual([]);
    expect(r.history.at(-1)!.energyNeg!).toBeGreaterThan(100);
    loss.dispose();
  });

  // false alarms: healthy runs of the losses the guard watches never trigger it
  const healthy: [string, (e: GaussianEnergy, seed: number) => Loss & { dispose(): void }][] = [
    ['CD-3', (e, seed) => new ContrastiveDivergence(e, { sampler: new Mala(e, 0.1), k: 3, seed })],
    [
      'PCD',
      (e, seed) =>
        new PersistentContrastiveDivergence(e, {
          sampler: new Mala(e, 0.1),
          k: 5,
          buffer: { capacity: 1000, init: 'uniform', initScale: 6, reinitProbability: 0.05 },
          seed,
        }),
    ],
    [
      'NCE',
      (e, seed) =>
        new NoiseContrastiveEstimation(e, { noise: new GaussianNoise({ mean: [0, 0], std: 3 }), seed }),
    ],
  ];
  for (const [label, make] of healthy) {
    it(`no false alarm on a healthy ${label} run (200 updates, gap within its scale)`, async () => {
      const seed = testSeed(`runaway-healthy-${label}`);
      const energy = new GaussianEnergy(2);
      const loss = make(energy, seed);
      const r = await fit({
        loss,
        optimizer: tf.train.adam(0.05),
        data,
        batchSize: 64,
        steps: 200,
        seed,
        checkpointEvery: 25,
      });
      expect(r.rollbacks).toEqual([]);
      expect(r.step).toBe(200);
      loss.dispose();
      energy.dispose();
    });
  }
});
