import {
  isEbmError,
  MLP_CONTRASTIVE_ADAM_KERNEL,
  type MLPContrastiveAdamInputs,
  normalArray,
  rngKey,
  runKernel,
} from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { type Activation, MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupWebGpu } from './index.js';

// The fused CD + Adam training step (train.mlpContrastiveAdam, mlp-train.ts) against tfjs autograd and tfjs's
// Adam, on lavapipe in CI. Tiny networks: lavapipe emulates the GPU on the CPU.
// Tolerance: float32 sums in another order (rows, units), |Δ| ≤ 2e-5 + 2e-4·|value| (observed ~1e-6 relative).
const { available: gpuOk } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'WebGPU training-step tests',
);

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!) - (2e-5 + 2e-4 * Math.abs(b[i]!));
    worst = Math.max(worst, err);
  }
  expect(worst, `${what}: worst excess error`).toBeLessThanOrEqual(0);
}

const B = 12;
const D = 3;

function setup(activation: Activation | readonly Activation[], widths: number[]) {
  const energy = new MLPEnergy({ inputDim: D, widths, activation, seed: 4 });
  const pos = tf.tensor2d(normalArray(rngKey(1), [B, D]), [B, D]);
  const neg = tf.tensor2d(
    normalArray(rngKey(2), [B, D]).map((v) => 1.5 * v),
    [B, D],
  );
  return { energy, pos, neg, vars: energy.trainableVariables };
}

/** Autograd: value, metrics and gradient (flat, in weight order) of the CD loss with energy L2 λ. */
async function autograd(energy: MLPEnergy, pos: tf.Tensor2D, neg: tf.Tensor2D, lambda: number) {
  const vars = energy.trainableVariables;
  const means = tf.tidy(() => tf.stack([tf.mean(energy.energy(pos)), tf.mean(energy.energy(neg))]));
  const [ep, en] = Array.from(await means.data()) as [number, number];
  means.dispose();
  const { value, grads } = tf.variableGrads(() => {
    const a = energy.energy(pos);
    const b = energy.energy(neg);
    return tf.add(
      tf.sub(tf.mean(a), tf.mean(b)),
      tf.mul(lambda, tf.add(tf.mean(tf.square(a)), tf.mean(tf.square(b)))),
    ) as tf.Scalar;
  }, vars);
  const flat = tf.concat(vars.map((v) => tf.reshape(grads[v.name]!, [-1])));
  const g = Array.from(await flat.data());
  const loss = (await value.data())[0]!;
  tf.dispose([value, flat]);
  return { loss, ep, en, g, grads };
}

const adam0 = {
  learningRate: 0.01,
  beta1: 0,
  beta2: 0,
  epsilon: 1e-7,
  biasCorrection1: 1,
  biasCorrection2: 1,
};

describe.skipIf(!gpuOk)('train.mlpContrastiveAdam on webgpu', () => {
  it('gradient and metrics equal tfjs autograd (silu 2 hidden layers, tanh, leakyRelu, relu-silu-silu per layer; with energy L2)', async () => {
    await tf.setBackend('webgpu');
    for (const [act, widths, lambda] of [
      ['silu', [16, 8], 0.1],
      ['tanh', [5], 0.02],
      ['leakyRelu', [7, 9, 4], 0.01],
      [['relu', 'silu', 'silu'], [12, 9, 6], 0.05],
    ] as const) {
      const { energy, pos, neg, vars } = setup(act, [...widths]);
      const P = vars.reduce((s, v) => s + v.size, 0);
      const ref = await autograd(energy, pos, neg, lambda);
      const moments = tf.zeros([2 * P]) as tf.Tensor1D;
      const before = tf.memory().numTensors;
      // β₁ = β₂ = 0: m' = g and v' = g² exactly.
      const out = runKernel(MLP_CONTRASTIVE_ADAM_KERNEL, {
        params: energy.kernelHint!.params,
        positives: pos,
        negatives: neg,
        energyL2: lambda,
        adam: adam0,
        moments,
      });
      expect(tf.memory().numTensors - before).toBe(vars.length + 2);
      const mv = await out.moments.data();
      expect(mv.length).toBeGreaterThanOrEqual(2 * P);
      expectClose(mv.slice(0, P), ref.g, `${act} gradient`);
      const m = await out.metrics.data();
      const norm = Math.hypot(...ref.g);
      expectClose(m, [ref.loss, ref.ep, ref.en, norm], `${act} metrics`);
      // Adam with β = 0: w' = w − lr·g/(|g| + ε).
      for (let k = 0; k < vars.length; k++) {
        const w = await vars[k]!.data();
        const gk = await ref.grads[vars[k]!.name]!.data();
        const want = Array.from(w, (x, i) => x - (0.01 * gk[i]!) / (Math.abs(gk[i]!) + 1e-7));
        expectClose(await out.weights[k]!.data(), want, `${act} weights[${k}]`);
        expect(out.weights[k]!.shape).toEqual(vars[k]!.shape);
      }
      tf.dispose([...out.weights, out.moments, out.metrics, moments, pos, neg]);
      tf.dispose(Object.values(ref.grads));
      energy.dispose();
    }
  });

  it("two Adam steps equal tfjs's Adam (moments, bias correction c = 1 − βᵗ, ε, learning rate)", async () => {
    await tf.setBackend('webgpu');
    const { energy, pos, neg, vars } = setup('silu', [16, 8]);
    const twin = new MLPEnergy({ inputDim: D, widths: [16, 8], activation: 'silu', seed: 4 });
    const opt = tf.train.adam(0.02, 0.8, 0.95, 1e-6);
    let moments = tf.zeros([2 * vars.reduce((s, v) => s + v.size, 0)]) as tf.Tensor1D;
    for (let t = 1; t <= 2; t++) {
      // tfjs on the twin.
      const ref = await autograd(twin, pos, neg, 0.05);
      opt.applyGradients(ref.grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose(Object.values(ref.grads));
      // Fused on the energy.
      const out = runKernel(MLP_CONTRASTIVE_ADAM_KERNEL, {
        params: energy.kernelHint!.params,
        positives: pos,
        negatives: neg,
        energyL2: 0.05,
        adam: {
          learningRate: 0.02,
          beta1: 0.8,
          beta2: 0.95,
          epsilon: 1e-6,
          biasCorrection1: Math.fround(1 - Math.fround(0.8 ** t)),
          biasCorrection2: Math.fround(1 - Math.fround(0.95 ** t)),
        },
        moments,
      });
      vars.forEach((v, k) => v.assign(out.weights[k]!));
      tf.dispose([...out.weights, out.metrics, moments]);
      moments = out.moments;
      const tw = twin.trainableVariables;
      for (let k = 0; k < vars.length; k++) {
        expectClose(await vars[k]!.data(), await tw[k]!.data(), `step ${t} weights[${k}]`);
      }
      const slots = (await opt.getWeights()).slice(1);
      const flat = tf.concat(slots.map((s) => tf.reshape(s.tensor, [-1])));
      expectClose((await moments.data()).slice(0, flat.size), await flat.data(), `step ${t} moments`);
      flat.dispose();
    }
    tf.dispose([moments, pos, neg]);
    opt.dispose();
    energy.dispose();
    twin.dispose();
  });

  it('bad input: INVALID_PARAM naming the argument, nothing dispatched or leaked', async () => {
    await tf.setBackend('webgpu');
    const { energy, pos, neg, vars } = setup('silu', [4]);
    const P = vars.reduce((s, v) => s + v.size, 0);
    const moments = tf.zeros([2 * P]) as tf.Tensor1D;
    const good: MLPContrastiveAdamInputs = {
      params: energy.kernelHint!.params,
      positives: pos,
      negatives: neg,
      energyL2: 0,
      adam: adam0,
      moments,
    };
    const short = tf.zeros([P]) as tf.Tensor1D;
    const frozen: number[][] = [];
    for (const v of vars) frozen.push(Array.from(await v.data()));
    const wide = tf.zeros([B, D + 1]) as tf.Tensor2D;
    const cases: [string, Partial<MLPContrastiveAdamInputs>][] = [
      ['negatives', { negatives: wide }],
      ['positives', { positives: wide }],
      ['moments', { moments: short }],
      ['energyL2', { energyL2: Number.NaN }],
      ['adam.beta1', { adam: { ...adam0, beta1: 1.5 } }],
      ['adam.biasCorrection1', { adam: { ...adam0, biasCorrection1: 0 } }],
      [
        'params.weights[0]',
        {
          params: {
            ...energy.kernelHint!.params,
            weights: frozen,
          },
        },
      ],
    ];
    for (const [argument, patch] of cases) {
      await expectNoLeaks(() => {
        let err: unknown;
        try {
          runKernel(MLP_CONTRASTIVE_ADAM_KERNEL, { ...good, ...patch });
        } catch (e) {
          err = e;
        }
        expect(isEbmError(err) && err.code === 'INVALID_PARAM', String(err)).toBe(true);
        expect((err as { argument?: string }).argument).toBe(argument);
      });
    }
    tf.dispose([moments, short, wide, pos, neg]);
    energy.dispose();
  });
});
