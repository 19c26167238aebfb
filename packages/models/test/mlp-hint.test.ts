import { chainKernelName, type KernelHint, kernelSource, normalArray, rngKey, runKernel } from '@ebm/core';
import { expectNoLeaksSync, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, type Activation, MLPEnergy } from '../src/index.js';

// MLPEnergy.kernelHint: core's one MLP hint format ({ sizes, activation, leakySlope, weights }) over the live
// variables, read by the fused `chain.mlp` kernel (core registers it for cpu/wasm) each time it runs.

/** One noiseless Langevin step of chain.mlp: x − h·∇E(x) with the fused gradient. */
function fusedStep(hint: KernelHint<'mlp'>, x: tf.Tensor2D, h: number): Float32Array {
  const out = runKernel(chainKernelName('mlp'), {
    method: 'langevin',
    x0: x,
    nSteps: 1,
    key: rngKey(0),
    params: hint.params,
    settings: { stepSize: h, noiseScale: 0 },
  });
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return v;
}

/** x − h·∇E(x) with the autograd gradient. */
function autogradStep(e: MLPEnergy, x: tf.Tensor2D, h: number): Float32Array {
  return tf.tidy(() => tf.sub(x, tf.mul(e.gradient(x), h)).dataSync() as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('MLPEnergy.kernelHint (kind "mlp")', () => {
  it('holds sizes, activation, slope and the live variables [K0, b0, …]', () => {
    const e = new MLPEnergy({ inputDim: 3, widths: [8, 4], activation: 'leakyRelu', leakySlope: 0.1 });
    const hint = e.kernelHint!;
    expect(hint.kind).toBe('mlp');
    expect(hint.params.sizes).toEqual([3, 8, 4, 1]);
    expect(hint.params.activation).toBe('leakyRelu');
    expect(hint.params.leakySlope).toBe(0.1);
    const vars = e.trainableVariables;
    expect(hint.params.weights).toHaveLength(6);
    hint.params.weights.forEach((w, i) => expect(w).toBe(vars[i]));
    e.dispose();
  });

  it('every activation has a hint; none with spectral normalisation; none after dispose', () => {
    for (const activation of ACTIVATIONS) {
      const e = new MLPEnergy({ inputDim: 2, widths: [4], activation });
      expect(e.kernelHint?.params.activation).toBe(activation);
      e.dispose();
      expect(e.kernelHint).toBeUndefined();
    }
    const sn = new MLPEnergy({ inputDim: 2, widths: [4], spectralNorm: true });
    expect(sn.kernelHint).toBeUndefined();
    sn.dispose();
  });

  it('per-layer activations: the hint lists them; an array of one activation is the single name', () => {
    const mixed = new MLPEnergy({ inputDim: 2, widths: [8, 8, 8], activation: ['relu', 'silu', 'silu'] });
    expect(mixed.kernelHint?.params.activation).toEqual(['relu', 'silu', 'silu']);
    const same = new MLPEnergy({ inputDim: 2, widths: [8, 8], activation: ['tanh', 'tanh'] });
    expect(same.kernelHint?.params.activation).toBe('tanh');
    mixed.dispose();
    same.dispose();
  });

  it('chain.mlp is registered on cpu and its gradient matches autograd for every activation, one or per layer', () => {
    expect(kernelSource(chainKernelName('mlp'))).toBe('backend');
    const seed = testSeed('mlp-hint');
    const x = tf.tensor2d(normalArray(rngKey(seed), [37, 3]), [37, 3]);
    const perLayer: [Activation, Activation][] = [
      ['relu', 'silu'],
      ['tanh', 'leakyRelu'],
      ['elu', 'relu'],
    ];
    for (const activation of [...ACTIVATIONS, ...perLayer]) {
      const e = new MLPEnergy({ inputDim: 3, widths: [12, 8], activation, seed });
      expectNoLeaksSync(() => {
        const got = fusedStep(e.kernelHint!, x, 0.5);
        const want = autogradStep(e, x, 0.5);
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      });
      e.dispose();
    }
    x.dispose();
  });

  it('is live: after the variables change (an optimizer step, loadWeights), the kernel uses the new weights', () => {
    const e = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: 4 });
    const hint = e.kernelHint!;
    const x = tf.tensor2d(normalArray(rngKey(5), [64, 2]), [64, 2]);
    const before = fusedStep(hint, x, 0.1);
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 3; i++) {
      opt.minimize(() => tf.mean(tf.square(e.energy(x))) as tf.Scalar, false, e.trainableVariables);
    }
    expect(e.kernelHint).toBe(hint);
    const after = fusedStep(hint, x, 0.1);
    expect(maxAbsDiff(before, after)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(after, autogradStep(e, x, 0.1))).toBeLessThan(1e-5);
    const other = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: 9 });
    e.loadWeights(other.saveWeightsSync());
    expect(maxAbsDiff(fusedStep(hint, x, 0.1), autogradStep(other, x, 0.1))).toBeLessThan(1e-5);
    opt.dispose();
    other.dispose();
    e.dispose();
    x.dispose();
  });
});
