import {
  chainKernelName,
  EbmError,
  gradientDescentStepComposite,
  langevinStepComposite,
  leapfrogStepComposite,
  metropolisAcceptComposite,
  momentumKickComposite,
  nesterovStepComposite,
  normalTensor,
  positionDriftComposite,
  registerKernelImpl,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GradientDescentSampler,
  HamiltonianMonteCarlo,
  LangevinDynamics,
  MALA,
  NesterovSampler,
  NUTS,
  ReplicaExchange,
} from '../src/index.js';
import { TestDoubleWell } from './helpers.js';

const dw = new TestDoubleWell(1, 1, 2);
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  await tf.ready();
});
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** Registers counting implementations of core's step kernels on the active backend (delegating to the composites). */
function spyKernels() {
  const calls: Record<string, number> = {
    randomNormal: 0,
    langevinStep: 0,
    momentumKick: 0,
    positionDrift: 0,
    gradientDescentStep: 0,
    nesterovStep: 0,
    leapfrogStep: 0,
    metropolisAccept: 0,
  };
  const be = tf.getBackend();
  cleanups.push(
    registerKernelImpl('randomNormal', be, (i) => {
      calls.randomNormal!++;
      return normalTensor(i.key, i.shape);
    }),
    registerKernelImpl('langevinStep', be, (i) => {
      calls.langevinStep!++;
      return langevinStepComposite(i);
    }),
    registerKernelImpl('momentumKick', be, (i) => {
      calls.momentumKick!++;
      return momentumKickComposite(i);
    }),
    registerKernelImpl('positionDrift', be, (i) => {
      calls.positionDrift!++;
      return positionDriftComposite(i);
    }),
    registerKernelImpl('gradientDescentStep', be, (i) => {
      calls.gradientDescentStep!++;
      return gradientDescentStepComposite(i);
    }),
    registerKernelImpl('nesterovStep', be, (i) => {
      calls.nesterovStep!++;
      return nesterovStepComposite(i);
    }),
    registerKernelImpl('leapfrogStep', be, (i) => {
      calls.leapfrogStep!++;
      return leapfrogStepComposite(i);
    }),
    registerKernelImpl('metropolisAccept', be, (i) => {
      calls.metropolisAccept!++;
      return metropolisAcceptComposite(i);
    }),
  );
  return calls;
}

describe('kernel dispatch', () => {
  it.each([
    ['Langevin', () => new LangevinDynamics(dw, { stepSize: 0.01 }), { randomNormal: 1, langevinStep: 1 }],
    [
      'Langevin Heun',
      () => new LangevinDynamics(dw, { stepSize: 0.01, integrator: 'heun' }),
      { randomNormal: 1, langevinStep: 2 },
    ],
    ['GradientDescent', () => new GradientDescentSampler(dw), { gradientDescentStep: 1, langevinStep: 0 }],
    ['Nesterov', () => new NesterovSampler(dw), { nesterovStep: 1, langevinStep: 0 }],
    [
      'MALA',
      () => new MALA(dw, { stepSize: 0.1 }),
      { randomNormal: 1, langevinStep: 1, metropolisAccept: 1 },
    ],
    [
      'HMC',
      () => new HamiltonianMonteCarlo(dw, { stepSize: 0.1, nLeapfrogSteps: 4 }),
      // half kick, then (drift, kick) × 4 with the inner kicks merged: 5 kicks, 4 drifts; no callback kernel.
      { randomNormal: 1, momentumKick: 5, positionDrift: 4, leapfrogStep: 0, metropolisAccept: 1 },
    ],
    [
      'ReplicaExchange',
      () => new ReplicaExchange(dw, { temperatures: [1, 2, 4], nLeapfrogSteps: 3 }),
      { randomNormal: 1, momentumKick: 4, positionDrift: 3, leapfrogStep: 0, metropolisAccept: 2 },
    ],
  ] as const)('%s runs its step through the registry', (_n, make, expected) => {
    const calls = spyKernels();
    const s = make();
    const x0 = tf.fill([3, 2], 0.5) as tf.Tensor2D;
    const r = s.sampleSync({ x0, nSteps: 5, seed: 1, diagnostics: true });
    for (const [k, perStep] of Object.entries(expected)) expect(calls[k], k).toBe(perStep * 5);
    tf.dispose([x0, r.samples, ...Object.values(r.diagnostics!)]);
  });

  it('NUTS uses the momentumKick / positionDrift data kernels and randomNormal from the registry', () => {
    const calls = spyKernels();
    const r = new NUTS(dw, { stepSize: 0.2, maxTreeDepth: 3 }).sampleSync({
      nSamples: 3,
      nSteps: 4,
      seed: 1,
    });
    expect(calls.randomNormal).toBe(5); // x0 ~ N(0, I) plus one momentum draw per step
    expect(calls.positionDrift).toBeGreaterThanOrEqual(4); // one per leaf
    expect(calls.momentumKick).toBe(2 * calls.positionDrift!); // two half kicks per leaf
    expect(calls.leapfrogStep).toBe(0); // the deprecated callback kernel is gone from NUTS
    r.samples.dispose();
  });
});

interface ChainCall {
  method: string;
  nSteps: number;
  settings: Readonly<Record<string, number>>;
  params: unknown;
}

describe('whole-chain kernels', () => {
  it('hand the run to chain.<kind> when registered and nothing is recorded', () => {
    const seen: ChainCall[] = [];
    cleanups.push(
      registerKernelImpl(chainKernelName('testDoubleWell'), tf.getBackend(), (i) => {
        seen.push({ method: i.method, nSteps: i.nSteps, settings: i.settings, params: i.params });
        if (i.method === 'nuts') throw new EbmError('NOT_IMPLEMENTED', 'no NUTS here');
        return tf.zerosLike(i.x0);
      }),
    );
    const lan = new LangevinDynamics(dw, { stepSize: 0.02, noiseScale: 0.5 });
    const r = lan.sampleSync({ nSamples: 4, nSteps: 7, burnIn: 3, seed: 1 });
    expect(Array.from(r.samples.dataSync())).toEqual(new Array(8).fill(0));
    expect(seen.at(-1)).toEqual({
      method: 'langevin',
      nSteps: 10,
      settings: { stepSize: 0.02, noiseScale: 0.5 },
      params: { barrierHeight: 1, b: 1 },
    });
    r.samples.dispose();
    // A trajectory (or diagnostics, a clamp, Heun, a scheduler) keeps the step loop.
    const n = seen.length;
    const r2 = lan.sampleSync({ nSamples: 4, nSteps: 3, seed: 1, trajectory: true });
    const r3 = new LangevinDynamics(dw, { stepSize: 0.02, clamp: [-2, 2] }).sampleSync({
      nSamples: 4,
      nSteps: 3,
    });
    expect(seen.length).toBe(n);
    expect(Array.from(r2.samples.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([r2.samples, r2.trajectory!.x!, r3.samples]);
    const h = new HamiltonianMonteCarlo(dw, { stepSize: 0.1, nLeapfrogSteps: 3 }).sampleSync({
      nSamples: 2,
      nSteps: 4,
      keepState: true,
    });
    expect(seen.at(-1)!.method).toBe('hmc');
    expect(seen.at(-1)!.settings).toEqual({ stepSize: 0.1, invMass: 1, nLeapfrogSteps: 3 });
    expect(h.finalState!.step).toBe(4);
    expect(h.finalState!.energy.shape).toEqual([2]); // energy and gradient rebuilt at the final positions
    tf.dispose([h.samples, h.finalState!.x, h.finalState!.energy, h.finalState!.grad]);
    const m = new MALA(dw, { stepSize: 0.1 }).sampleSync({ nSamples: 2, nSteps: 4 });
    expect(seen.at(-1)!.method).toBe('mala');
    m.samples.dispose();
    // NOT_IMPLEMENTED from the kernel falls back to the step loop.
    const nu = new NUTS(dw, { stepSize: 0.1, maxTreeDepth: 2 }).sampleSync({
      nSamples: 2,
      nSteps: 2,
      seed: 3,
    });
    expect(seen.at(-1)!.method).toBe('nuts');
    expect(Array.from(nu.samples.dataSync()).some((v) => v !== 0)).toBe(true);
    nu.samples.dispose();
  });
});
