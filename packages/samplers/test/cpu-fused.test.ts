import {
  chainKernelName,
  type EnergyFunction,
  foldIn,
  type KernelHint,
  kernelSource,
  rngKey,
  runKernel,
  type SamplerState,
} from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import {
  Ackley,
  Banana,
  DoubleWell,
  Funnel,
  Gaussian,
  GaussianMixture,
  Harmonic,
  ManyWell,
  MLPEnergy,
  Rastrigin,
  Rosenbrock,
} from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '../src/index.js';

// The fused CPU kernels of @ebm/core (chain.<kind> on the cpu backend) against the samplers' step loop with the
// models' composite energies: bit for bit on the same Philox stream (step t of a run from key K at step s uses
// foldIn(K, s + t), in both paths).

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

function cov(d: number, diag: number, off: number): number[][] {
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? diag : off)));
}

const D = 6;
const energies: Record<string, () => EnergyFunction & { kernelHint: KernelHint }> = {
  doubleWell: () => new DoubleWell({ barrierHeight: 1.5, b: 1.1 }),
  harmonic: () => new Harmonic({ k: 1.7 }),
  rosenbrock: () => new Rosenbrock({ a: 1, b: 20 }),
  ackley: () => new Ackley(),
  rastrigin: () => new Rastrigin(),
  gaussian: () => new Gaussian({ mean: [1, 2, 3, 0, -1, 0.5], covariance: cov(D, 1.5, 0.3) }),
  gaussianMixture: () =>
    new GaussianMixture({
      weights: [0.3, 0.7],
      means: [new Array(D).fill(0), new Array(D).fill(2)],
    }),
  funnel: () => new Funnel({ dim: D }),
  banana: () => new Banana({ dim: D }),
  manyWell: () => new ManyWell({ dim: D }),
};

type Method = 'langevin' | 'mala' | 'hmc';
function makeSampler(method: Method, e: EnergyFunction) {
  if (method === 'langevin') return new LangevinDynamics(e, { stepSize: 0.01, noiseScale: 0.9 });
  if (method === 'mala') return new MALA(e, { stepSize: 0.05, mass: 2 });
  return new HamiltonianMonteCarlo(e, { stepSize: 0.05, nLeapfrogSteps: 3 });
}
const SETTINGS: Record<Method, Record<string, number>> = {
  langevin: { stepSize: 0.01, noiseScale: 0.9 },
  mala: { stepSize: 0.05, invMass: 0.5 },
  hmc: { stepSize: 0.05, invMass: 1, nLeapfrogSteps: 3 },
};

/** `n` steps of the sampler's pure step loop from x0 with keys foldIn(key, first + t); returns the positions. */
function stepLoop(
  method: Method,
  e: EnergyFunction,
  x0: tf.Tensor2D,
  key: readonly [number, number],
  first: number,
  n: number,
) {
  const s = makeSampler(method, e);
  let st: SamplerState = s.init(x0);
  for (let t = 0; t < n; t++) {
    const r = s.step(st as never, foldIn(key, first + t));
    s.disposeState(st as never);
    for (const v of Object.values(r.info) as tf.Tensor[]) v.dispose();
    st = r.state;
  }
  const out = Array.from(st.x.dataSync());
  s.disposeState(st as never);
  return out;
}

describe('fused CPU chains vs the step loop (cpu backend)', () => {
  const [B, N, first] = [37, 12, 3];
  const key = rngKey(5);
  for (const [kind, make] of Object.entries(energies)) {
    it(`${kind}: Langevin, MALA and HMC are bit-identical`, () => {
      const e = make();
      expect(e.kernelHint.kind).toBe(kind);
      expect(kernelSource(chainKernelName(kind))).toBe('backend');
      const x0 = tf.tidy(() => tf.mul(tf.sin(tf.reshape(tf.range(0, B * D), [B, D])), 1.2)) as tf.Tensor2D;
      for (const method of ['langevin', 'mala', 'hmc'] as const) {
        const ref = stepLoop(method, e, x0, key, first, N);
        const fused = runKernel(chainKernelName(kind), {
          method,
          x0,
          nSteps: N,
          key,
          params: e.kernelHint.params,
          settings: SETTINGS[method],
          startStep: first,
        } as never) as tf.Tensor2D;
        expect(bits(fused.dataSync()), `${kind} ${method}`).toEqual(bits(ref));
        fused.dispose();
      }
      x0.dispose();
    });
  }

  it('Gaussian with D = 52 (matMul in blocks of 48) is bit-identical', () => {
    const d = 52;
    const e = new Gaussian({
      mean: Array.from({ length: d }, (_, i) => i / d),
      covariance: cov(d, 1.5, 0.2),
    });
    const x0 = tf.tidy(() => tf.cos(tf.reshape(tf.range(0, 5 * d), [5, d]))) as tf.Tensor2D;
    const ref = stepLoop('mala', e, x0, key, 0, 5);
    const fused = runKernel(chainKernelName('gaussian'), {
      method: 'mala',
      x0,
      nSteps: 5,
      key,
      params: e.kernelHint.params,
      settings: SETTINGS.mala,
    } as never) as tf.Tensor2D;
    expect(bits(fused.dataSync())).toEqual(bits(ref));
    tf.dispose([fused, x0]);
  });

  it('sample() takes the fused path (chain kernel with the run key, startStep 0) and leaks nothing', async () => {
    const e = new DoubleWell();
    const s = new LangevinDynamics(e, { stepSize: 0.01 });
    const x0 = tf.tidy(() => tf.mul(tf.sin(tf.reshape(tf.range(0, 64 * 4), [64, 4])), 1.5)) as tf.Tensor2D;
    const r = await expectNoLeaks(() => s.sample({ x0, nSteps: 30, seed: 4 }), { keepOutputs: true });
    const fused = runKernel(chainKernelName('doubleWell'), {
      method: 'langevin',
      x0,
      nSteps: 30,
      key: rngKey(4),
      startStep: 0,
      params: e.kernelHint.params,
      settings: { stepSize: 0.01, noiseScale: 1 },
    }) as tf.Tensor2D;
    expect(bits(r.samples.dataSync())).toEqual(bits(fused.dataSync()));
    tf.dispose([r.samples, fused, x0]);
  });
});

/**
 * The kernel hint the fused CPU MLP kernel reads (`kind: 'mlp'`), holding the MLPEnergy's variables (read by the
 * kernel when it runs): what `MLPEnergy.kernelHint` should return (see packages/core/src/cpu/mlp.ts).
 */
const code = (a: string): number => ['silu', 'swish', 'elu', 'leakyRelu', 'tanh', 'relu'].indexOf(a);

function mlpHint(e: MLPEnergy): KernelHint {
  const weights = e.namedVariables.filter((v) => !v.name.endsWith('sn_u')).map((v) => v.variable);
  return {
    kind: 'mlp',
    params: {
      sizes: [e.config.inputDim, ...e.config.widths, 1],
      // The activations' numeric codes (core's MLP_ACTIVATIONS order), one or one per hidden layer.
      activation: Array.isArray(e.config.activation)
        ? e.config.activation.map(code)
        : code(e.config.activation as string),
      leakySlope: e.config.leakySlope,
      weights: weights as unknown as number[][],
    },
  };
}

describe('fused CPU MLP energy (kind "mlp")', () => {
  for (const activation of ['silu', 'elu', 'leakyRelu', 'tanh', 'relu', ['relu', 'silu']] as const) {
    it(`${activation}: a Langevin chain agrees with the composite step loop to float32 rounding`, () => {
      const e = new MLPEnergy({ inputDim: 5, widths: [16, 8], activation, seed: 3 });
      e.training = false;
      const x0 = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 20 * 5), [20, 5]))) as tf.Tensor2D;
      const key = rngKey(1);
      const ref = stepLoop('langevin', e, x0, key, 0, 10);
      const fused = runKernel(chainKernelName('mlp'), {
        method: 'langevin',
        x0,
        nSteps: 10,
        key,
        params: mlpHint(e).params,
        settings: SETTINGS.langevin,
      } as never) as tf.Tensor2D;
      const got = fused.dataSync();
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
      expect(maxErr).toBeLessThan(1e-4);
      tf.dispose([fused, x0]);
      e.dispose();
    });
  }

  it('samplers pick chain.mlp up through the kernel hint, within float32 rounding of the step loop', async () => {
    const e = new MLPEnergy({ inputDim: 4, widths: [8], seed: 2 });
    e.training = false;
    Object.defineProperty(e, 'kernelHint', { get: () => mlpHint(e) });
    const x0 = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 16 * 4), [16, 4]))) as tf.Tensor2D;
    // (Langevin: with MALA/HMC a last-bit difference in E can flip an accept decision.)
    const s = new LangevinDynamics(e, { stepSize: 0.01, noiseScale: 0.9 });
    const r = await s.sample({ x0, nSteps: 6, seed: 2 });
    const ref = stepLoop('langevin', e, x0, rngKey(2), 0, 6);
    const got = r.samples.dataSync();
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
    expect(maxErr).toBeLessThan(1e-4);
    tf.dispose([r.samples, x0]);
    e.dispose();
  });
});
