import { type EnergyFunction, type RngKey, randomNormal, rngKey, runKernel, splitKey } from '@ebm/core';
import { expectNoLeaks, ThrowingEnergy } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GradientDescentSampler,
  HamiltonianMonteCarlo,
  hmcTransition,
  LangevinDynamics,
  MALA,
  NesterovSampler,
  type PointSet,
  ReplicaExchange,
} from '../src/index.js';
import { TestDoubleWell, torchEbmGaussian } from './helpers.js';

beforeAll(async () => {
  await tf.ready();
});

/**
 * The HMC transition as it was written before the data kernels: L calls of the deprecated `leapfrogStep`
 * kernel with a gradient callback returning β·∇E. The reference the data-kernel path must reproduce.
 */
function hmcReference(
  energy: EnergyFunction,
  cur: PointSet,
  key: RngKey,
  o: {
    stepSize: number;
    invMass: number | tf.Tensor;
    beta: number | tf.Tensor2D;
    stepScale: number | tf.Tensor2D;
    nLeapfrog: number;
  },
) {
  const [kMom] = splitKey(key, 2) as [RngKey, RngKey];
  const eps = typeof o.stepScale === 'number' ? o.stepSize * o.stepScale : tf.mul(o.stepScale, o.stepSize);
  const z = randomNormal(kMom, cur.x.shape) as tf.Tensor2D;
  const p0 = (
    typeof o.invMass === 'number' ? tf.mul(z, 1 / Math.sqrt(o.invMass)) : tf.div(z, tf.sqrt(o.invMass))
  ) as tf.Tensor2D;
  const gradient = (q: tf.Tensor2D) => tf.mul(energy.gradient(q), o.beta) as tf.Tensor2D;
  let q = cur.x;
  let p = p0;
  let g = tf.mul(cur.grad, o.beta) as tf.Tensor2D;
  for (let i = 0; i < o.nLeapfrog; i++) {
    ({
      q,
      p,
      grad: g,
    } = runKernel('leapfrogStep', { q, p, grad: g, stepSize: eps, invMass: o.invMass, gradient }));
  }
  const kin = (m: tf.Tensor2D) => tf.mul(0.5, tf.sum(tf.mul(tf.square(m), o.invMass), 1));
  const bRow = typeof o.beta === 'number' ? o.beta : tf.reshape(o.beta, [-1]);
  const logA = tf.sub(
    tf.add(tf.mul(bRow, cur.energy), kin(p0)),
    tf.add(tf.mul(bRow, energy.energy(q)), kin(p)),
  );
  return { q, p, logA };
}

describe('HMC through momentumKick + positionDrift', () => {
  it('gives the numbers of the deprecated leapfrogStep path (unit, diagonal mass; tempered rows)', () => {
    const g = torchEbmGaussian();
    const x = tf.tensor2d([
      [0.3, -0.2],
      [1.5, 0.4],
      [-0.7, -1.9],
      [2.1, 1.0],
    ]);
    const cases = [
      { invMass: 1, beta: 1, stepScale: 1 },
      { invMass: tf.tensor1d([1, 0.5]), beta: 1, stepScale: 1 },
      {
        invMass: tf.tensor1d([0.8, 1.3]),
        beta: tf.tensor2d([[1], [0.5], [0.25], [0.125]]),
        stepScale: tf.tensor2d([[1], [1.4], [2], [2.8]]),
      },
    ];
    for (const [ci, c] of cases.entries()) {
      tf.tidy(() => {
        const eg = g.energyAndGradient(x);
        const cur: PointSet = { x, energy: eg.energy, grad: eg.gradient };
        const key = rngKey(100 + ci);
        const settings = { stepSize: 0.15, nLeapfrog: 7, ...c };
        const ref = hmcReference(g, cur, key, settings);
        const r = hmcTransition(g, cur, key, settings);
        // Where the reference accepts for sure (log α > 0 or the same uniform draw), compare positions:
        // the accept step is shared, so the transitions agree row by row up to float rounding.
        const acc = r.accepted.arraySync();
        const refAcceptProb = tf.exp(tf.minimum(ref.logA, 0)).arraySync() as number[];
        const prob = r.acceptProb.arraySync();
        const refQ = ref.q.arraySync();
        const xs = r.x.arraySync();
        const x0 = x.arraySync();
        for (let i = 0; i < 4; i++) {
          expect(prob[i]!, `case ${ci} row ${i} acceptProb`).toBeCloseTo(refAcceptProb[i]!, 4);
          const expected = acc[i] === 1 ? refQ[i]! : x0[i]!;
          for (let d = 0; d < 2; d++) expect(xs[i]![d]!, `case ${ci} row ${i}`).toBeCloseTo(expected[d]!, 4);
        }
        expect(Array.from(acc).some((v) => v === 1)).toBe(true);
      });
    }
    tf.dispose([
      x,
      ...cases.flatMap((c) => [c.invMass, c.beta, c.stepScale].filter((v) => typeof v !== 'number')),
    ] as tf.Tensor[]);
  });
});

describe('no leaks when the energy throws mid-step', () => {
  const makers: [
    string,
    (e: EnergyFunction) => {
      init(x: tf.Tensor2D): object;
      step(s: never, k: RngKey): unknown;
      disposeState(s: never): void;
    },
    number,
  ][] = [
    [
      'HMC (4th leapfrog gradient)',
      (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 6, mass: [1, 2] }),
      4,
    ],
    [
      'HMC (last leapfrog gradient)',
      (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 3 }),
      3,
    ],
    ['MALA', (e) => new MALA(e, { stepSize: 0.1 }), 1],
    ['Langevin Heun (corrector)', (e) => new LangevinDynamics(e, { integrator: 'heun', mass: [1, 2] }), 2],
    ['Langevin', (e) => new LangevinDynamics(e, { mass: 2 }), 1],
    ['GradientDescent', (e) => new GradientDescentSampler(e), 1],
    ['Nesterov', (e) => new NesterovSampler(e), 1],
    [
      'ReplicaExchange HMC',
      (e) => new ReplicaExchange(e, { temperatures: [1, 2, 4], nLeapfrogSteps: 4, mass: [1, 2] }),
      3,
    ],
    ['ReplicaExchange MALA', (e) => new ReplicaExchange(e, { temperatures: [1, 2], kernel: 'mala' }), 1],
  ];
  it.each(makers)('%s', async (_name, make, failAt) => {
    const base = new TestDoubleWell(1, 1, 2);
    const energy = new ThrowingEnergy(base, Number.POSITIVE_INFINITY);
    const sampler = make(energy);
    const x0 = tf.tensor2d([
      [0.5, -0.5],
      [1.2, 0.1],
      [-0.9, 0.8],
    ]);
    const state = sampler.init(x0);
    const thrower = new ThrowingEnergy(base, failAt);
    // Same sampler type on the throwing energy; the state (built from the base energy) is shared.
    const failing = make(thrower);
    await expectNoLeaks(() => {
      thrower.reset();
      expect(() => failing.step(state as never, rngKey(3))).toThrowError(/energy failed mid-run/);
    });
    expect(thrower.calls).toBe(failAt);
    sampler.disposeState(state as never);
    x0.dispose();
  });
});
