import { type EnergyFunction, rngKey } from '@ebm/core';
import { expectEbmError, expectNoLeaks, ThrowingEnergy } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DualAveraging,
  GradientDescentSampler,
  HamiltonianMonteCarlo,
  LangevinDynamics,
  MALA,
  NesterovSampler,
  NUTS,
  ReplicaExchange,
  windowAdaptation,
} from '../src/index.js';
import { TestDoubleWell } from './helpers.js';

beforeAll(async () => {
  await tf.ready();
});

const energy = new TestDoubleWell(1, 1, 2);

describe('unknown option names', () => {
  const ctors: [string, (o: never) => unknown][] = [
    ['LangevinDynamics', (o) => new LangevinDynamics(energy, o)],
    ['MALA', (o) => new MALA(energy, o)],
    ['HamiltonianMonteCarlo', (o) => new HamiltonianMonteCarlo(energy, o)],
    ['NUTS', (o) => new NUTS(energy, o)],
    ['GradientDescentSampler', (o) => new GradientDescentSampler(energy, o)],
    ['NesterovSampler', (o) => new NesterovSampler(energy, o)],
    ['ReplicaExchange', (o) => new ReplicaExchange(energy, o)],
  ];
  it.each(ctors)('%s rejects { step_size } and suggests stepSize', (name, make) => {
    expectEbmError(() => make({ step_size: 0.1 } as never), 'INVALID_PARAM', {
      message: new RegExp(`${name}.*"stepSize"`),
    });
  });
  it('names the TorchEBM aliases (n_leapfrog_steps, cov) and edit-distance typos', () => {
    expectEbmError(
      () => new HamiltonianMonteCarlo(energy, { n_leapfrog_steps: 3 } as never),
      'INVALID_PARAM',
      { message: /"nLeapfrogSteps"/ },
    );
    expectEbmError(() => new NUTS(energy, { maxTreeDepht: 3 } as never), 'INVALID_PARAM', {
      message: /"maxTreeDepth"/,
    });
    expectEbmError(() => new LangevinDynamics(energy, { cov: 1 } as never), 'INVALID_PARAM', {
      message: /Unknown option "cov"/,
    });
    expectEbmError(() => new DualAveraging(0.1, { target_acceptance: 0.6 } as never), 'INVALID_PARAM', {
      message: /"targetAcceptance"/,
    });
  });
  it('windowAdaptation rejects { n_warmup } and suggests nWarmup', async () => {
    await expect(
      windowAdaptation(new MALA(energy), { n_warmup: 50, nSamples: 2, dim: 2 } as never),
    ).rejects.toThrowError(/"nWarmup"/);
  });
  it('sample() rejects { nsamples } / { batch_size } / { k_steps }', async () => {
    const s = new LangevinDynamics(energy);
    for (const [bad, good] of [
      ['nsamples', 'nSamples'],
      ['k_steps', 'nSteps'],
    ] as const) {
      await expect(s.sample({ [bad]: 4, dim: 2, nSteps: 2 } as never)).rejects.toThrowError(
        new RegExp(`"${good}"`),
      );
    }
  });
});

describe('a step on a disposed state is a STATE_ERROR, not a TypeError', () => {
  const makers: [string, () => { init(x: tf.Tensor2D): object; step(s: never, k: never): unknown }][] = [
    ['MALA', () => new MALA(energy)],
    ['HMC', () => new HamiltonianMonteCarlo(energy)],
    ['NUTS', () => new NUTS(energy)],
    ['GradientDescent', () => new GradientDescentSampler(energy)],
    ['Nesterov', () => new NesterovSampler(energy)],
    ['ReplicaExchange', () => new ReplicaExchange(energy, { temperatures: [1, 2] })],
  ];
  it.each(makers)('%s', (_name, make) => {
    const s = make();
    const x0 = tf.tensor2d([[0.1, 0.2]]);
    const st = s.init(x0) as Record<string, unknown>;
    for (const v of Object.values(st)) {
      if (v instanceof tf.Tensor) v.dispose();
      if (Array.isArray(v)) for (const w of v) if (w instanceof tf.Tensor) w.dispose();
    }
    expectEbmError(() => s.step(st as never, rngKey(1) as never), 'STATE_ERROR', { message: /disposed/ });
    expectEbmError(() => s.step(null as never, rngKey(1) as never), 'STATE_ERROR', {
      message: /not a sampler state/,
    });
    x0.dispose();
  });
});

describe('no leaks when the energy throws mid-run (sample() and NUTS step)', () => {
  const makers: [string, (e: EnergyFunction) => { sample(o: object): Promise<unknown> }][] = [
    ['Langevin', (e) => new LangevinDynamics(e, { stepSize: 0.01 })],
    ['MALA', (e) => new MALA(e, { stepSize: 0.1 })],
    ['HMC', (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 4 })],
    ['NUTS', (e) => new NUTS(e, { stepSize: 0.2, maxTreeDepth: 4 })],
    ['GradientDescent', (e) => new GradientDescentSampler(e)],
    ['Nesterov', (e) => new NesterovSampler(e)],
    ['ReplicaExchange HMC', (e) => new ReplicaExchange(e, { temperatures: [1, 2, 4], nLeapfrogSteps: 3 })],
    ['ReplicaExchange MALA', (e) => new ReplicaExchange(e, { temperatures: [1, 2], kernel: 'mala' })],
  ];
  it.each(makers)('%s', async (_name, make) => {
    for (const failAt of [1, 2, 4]) {
      await expectNoLeaks(async () => {
        const s = make(new ThrowingEnergy(energy, failAt));
        await expect(
          s.sample({ nSamples: 3, dim: 2, nSteps: 5, seed: 1, trajectory: true, diagnostics: true }),
        ).rejects.toThrowError(/energy failed mid-run/);
      });
    }
  });
  it('NUTS step() and stepAsync()', async () => {
    const x0 = tf.tensor2d([
      [0.5, -0.5],
      [1.2, 0.1],
    ]);
    const state = new NUTS(energy).init(x0);
    for (const failAt of [1, 2, 3]) {
      await expectNoLeaks(() => {
        const s = new NUTS(new ThrowingEnergy(energy, failAt), { stepSize: 0.2, maxTreeDepth: 3 });
        expect(() => s.step(state, rngKey(3))).toThrowError(/energy failed mid-run/);
      });
      await expectNoLeaks(async () => {
        const s2 = new NUTS(new ThrowingEnergy(energy, failAt), { stepSize: 0.2, maxTreeDepth: 3 });
        await expect(s2.stepAsync(state, rngKey(3))).rejects.toThrowError(/energy failed mid-run/);
      });
    }
    new NUTS(energy).disposeState(state);
    x0.dispose();
  });
});
