import { type BaseSampler, EbmError, foldIn, rngKey, type SamplerState } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  GradientDescentSampler,
  HamiltonianMonteCarlo,
  LangevinDynamics,
  MALA,
  NesterovSampler,
  NUTS,
} from '../src/index.js';
import { TestDoubleWell, torchEbmGaussian } from './helpers.js';

const g = torchEbmGaussian();
type AnySampler = BaseSampler<SamplerState>;
export const factories: [string, () => AnySampler][] = [
  ['Langevin (Euler–Maruyama)', () => new LangevinDynamics(g, { stepSize: 0.05 }) as unknown as AnySampler],
  [
    'Langevin (Heun, clamp)',
    () =>
      new LangevinDynamics(g, {
        stepSize: 0.05,
        integrator: 'heun',
        clamp: [-4, 4],
      }) as unknown as AnySampler,
  ],
  ['GradientDescent', () => new GradientDescentSampler(g, { stepSize: 0.05 }) as unknown as AnySampler],
  ['Nesterov', () => new NesterovSampler(g, { stepSize: 0.05 }) as unknown as AnySampler],
  ['MALA', () => new MALA(g, { stepSize: 0.3, mass: [1, 2] }) as unknown as AnySampler],
  ['HMC', () => new HamiltonianMonteCarlo(g, { stepSize: 0.2, nLeapfrogSteps: 3 }) as unknown as AnySampler],
  ['NUTS', () => new NUTS(g, { stepSize: 0.4, maxTreeDepth: 5, mass: [1, 2] }) as unknown as AnySampler],
  [
    'HMC (autograd energy)',
    () =>
      new HamiltonianMonteCarlo(new TestDoubleWell(1, 1, 2), {
        stepSize: 0.1,
        nLeapfrogSteps: 2,
        mass: 2,
      }) as unknown as AnySampler,
  ],
];

describe.each(factories)('%s: sampler contract', (_name, make) => {
  it('runs without leaking tensors (trajectory, diagnostics, convergence, step)', async () => {
    const s = make();
    const r = await expectNoLeaks(() =>
      s.sampleSync({
        nSamples: 6,
        nSteps: 16,
        burnIn: 2,
        thin: 2,
        seed: 3,
        trajectory: { fields: ['x', 'energy'] },
        diagnostics: { convergence: true },
      }),
    );
    expect(r.nKept).toBe(8);
    expect(r.stepsRun).toBe(18);
    expect(r.convergence?.rhat.length).toBe(2);
    const st = s.init(tf.zeros([4, 2]) as tf.Tensor2D);
    await expectNoLeaks(() => s.step(st, rngKey(1)));
    s.disposeState(st);
    await expectNoLeaks(() => s.sample({ nSamples: 3, nSteps: 4, seed: 1, keepState: true }));
  });

  it('returns the documented shapes', () => {
    const s = make();
    const r = s.sampleSync({
      nSamples: 5,
      nSteps: 6,
      thin: 3,
      seed: 2,
      trajectory: { fields: ['x', 'energy'] },
      diagnostics: true,
    });
    expect(r.samples.shape).toEqual([5, 2]);
    expect(r.trajectory!.x!.shape).toEqual([5, 2, 2]);
    expect(r.trajectory!.energy!.shape).toEqual([5, 2]);
    expect(r.diagnostics!.mean!.shape).toEqual([2, 2]);
    expect(r.diagnostics!.var!.shape).toEqual([2, 2]);
    expect(r.diagnostics!.energy!.shape).toEqual([2]);
    tf.dispose([r.samples, ...Object.values(r.trajectory!), ...Object.values(r.diagnostics!)]);
  });

  it('checkpoint: saveState → JSON → loadState resumes bit-identically', async () => {
    const s = make();
    const x0 = tf.tensor2d([
      [0.5, -1.5],
      [2, 0.1],
      [-0.7, -0.3],
    ]);
    const whole = s.sampleSync({ x0, nSteps: 12, seed: 77 });
    const first = s.sampleSync({ x0, nSteps: 5, seed: 77, keepState: true });
    const saved = JSON.parse(
      JSON.stringify(
        await (s as unknown as { saveState: (st: SamplerState) => Promise<unknown> }).saveState(
          first.finalState!,
        ),
      ),
    );
    const loaded = (s as unknown as { loadState: (v: unknown) => SamplerState }).loadState(saved);
    expect(loaded.step).toBe(5);
    const rest = s.sampleSync({ resumeFrom: loaded, nSteps: 7, seed: 77 });
    expect(Array.from(rest.samples.dataSync())).toEqual(Array.from(whole.samples.dataSync()));
    // The pure form gives the same chain: step(state, foldIn(runKey, state.step)).
    let st = s.loadState(saved as never);
    for (let i = 0; i < 7; i++) {
      const { state, info } = s.step(st, foldIn(rngKey(77), st.step));
      s.disposeState(st);
      tf.dispose(Object.values(info));
      st = state;
    }
    expect(Array.from(st.x.dataSync())).toEqual(Array.from(whole.samples.dataSync()));
    s.disposeState(st);
    s.disposeState(loaded);
    tf.dispose([x0, whole.samples, first.samples, rest.samples]);
    s.disposeState(first.finalState!);
  });

  it('reports progress and honours an AbortSignal without leaking', async () => {
    const s = make();
    const events: number[] = [];
    const r = await s.sample({
      nSamples: 2,
      nSteps: 10,
      burnIn: 5,
      seed: 1,
      progressEvery: 3,
      onProgress: (e) => events.push(e.step),
    });
    expect(events).toEqual([3, 6, 9, 12, 15]);
    r.samples.dispose();
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    const err = await s
      .sample({
        nSamples: 2,
        nSteps: 50,
        seed: 1,
        trajectory: true,
        diagnostics: true,
        progressEvery: 1,
        signal: ctl.signal,
        onProgress: (e) => {
          if (e.step === 3) ctl.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EbmError);
    expect((err as EbmError).code).toBe('ABORTED');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input with EbmError codes', () => {
    const s = make();
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof EbmError ? e.code : String(e);
      }
      return 'no error';
    };
    const x3 = tf.zeros([2, 3]) as tf.Tensor2D;
    const xNaN = tf.tensor2d([[Number.NaN, 0]]);
    expect(codeOf(() => s.sampleSync({ x0: x3, nSteps: 2 }))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => s.sampleSync({ x0: xNaN, nSteps: 2 }))).toBe('NON_FINITE');
    expect(codeOf(() => s.sampleSync({ nSamples: 2, nSteps: 0 }))).toBe('INVALID_PARAM');
    expect(codeOf(() => s.sampleSync({ nSamples: 2, nSteps: 2, thin: 0 }))).toBe('INVALID_PARAM');
    expect(codeOf(() => s.sampleSync({ nSamples: 2, nSteps: 2, trajectory: { fields: ['nope'] } }))).toBe(
      'INVALID_PARAM',
    );
    expect(codeOf(() => s.sampleSync({ resumeFrom: {} as never, nSteps: 2 }))).toBe('INVALID_PARAM');
    expect(codeOf(() => s.sampleSync({ nSamples: 2, nSteps: 6, diagnostics: { convergence: true } }))).toBe(
      'INVALID_PARAM',
    );
    tf.dispose([x3, xNaN]);
  });
});

describe('MH option validation', () => {
  it('rejects bad mass and leapfrog settings', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof EbmError ? `${e.code}:${e.argument}` : String(e);
      }
      return 'no error';
    };
    expect(codeOf(() => new HamiltonianMonteCarlo(g, { mass: [1, 2, 3] }))).toBe('SHAPE_MISMATCH:mass');
    expect(codeOf(() => new HamiltonianMonteCarlo(g, { mass: -1 }))).toBe('INVALID_PARAM:mass');
    expect(codeOf(() => new HamiltonianMonteCarlo(g, { mass: [1, 0] }))).toBe('INVALID_PARAM:mass');
    expect(codeOf(() => new HamiltonianMonteCarlo(g, { nLeapfrogSteps: 0 }))).toBe(
      'INVALID_PARAM:nLeapfrogSteps',
    );
    expect(codeOf(() => new MALA(g, { stepSize: Number.POSITIVE_INFINITY }))).toBe('NON_FINITE:stepSize');
    expect(codeOf(() => new MALA(g, 'fast' as never))).toBe('INVALID_PARAM:options');
    // Diagonal mass with a dimension-free energy is checked at init.
    const free = new TestDoubleWell(1, 1);
    const hmc = new HamiltonianMonteCarlo(free, { mass: [1, 2] });
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(codeOf(() => hmc.init(x))).toBe('SHAPE_MISMATCH:mass');
    x.dispose();
  });
});
