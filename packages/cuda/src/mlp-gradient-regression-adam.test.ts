import {
  isEbmError,
  MLP_GRADIENT_REGRESSION_ADAM_KERNEL,
  MLP_GRADIENT_REGRESSION_KERNEL,
  type MLPGradientRegressionAdamInputs,
  normalArray,
  rngKey,
  runKernel,
  uniformArray,
} from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupWebGpu } from './index.js';

// The fused gradient regression + Adam step (train.mlpGradientRegressionAdam, mlp-gradient-regression-adam.ts):
// two steps from given moments against train.mlpGradientRegression's gradients and tfjs's Adam formula in float64
// on the host (m' = β₁m + (1 − β₁)g, v' = β₂v + (1 − β₂)g², w' = w − lr·(m'/c₁)/(√(v'/c₂) + ε)), for hidden
// widths that give 4, 2 and 1 parameters per thread; V's output bias is left alone. On lavapipe in CI.
// Tolerance: the gradient sums in the same order as the grad programs; float32 rounding of the update:
// |Δ| ≤ 1e-5·max|ref| + 1e-4·|ref| per entry.
const { available: gpuOk } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'WebGPU gradient-regression Adam tests',
);

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) - (1e-5 * scale + 1e-4 * Math.abs(b[i]!)));
  expect(worst, `${what}: worst excess error`).toBeLessThanOrEqual(0);
}

const B = 10;
const D = 3;
const ADAM = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

describe.skipIf(!gpuOk)('train.mlpGradientRegressionAdam on webgpu', () => {
  it('two steps equal the gradient-regression kernel + Adam on the host (4, 2, 1 parameters per thread)', async () => {
    for (const widths of [
      [8, 12],
      [6, 6],
      [5, 7, 3],
    ]) {
      const energy = new MLPEnergy({ inputDim: D, widths, activation: 'silu', seed: 7 });
      const params = energy.kernelHint!.params;
      const x = tf.tensor2d(normalArray(rngKey(1), [B, D]), [B, D]);
      const u = tf.tensor2d(normalArray(rngKey(2), [B, D]), [B, D]);
      const c = tf.tensor1d(Array.from(uniformArray(rngKey(3), [B]), (v) => 2 * v - 0.5));
      const ws = energy.trainableVariables;
      const trained = ws.slice(0, -1);
      const nParams = trained.reduce((s, w) => s + w.size, 0);
      // Host Adam state, float64, from non-zero moments.
      const m = Array.from(normalArray(rngKey(4), [nParams]), (v) => 0.01 * v);
      const v = Array.from(uniformArray(rngKey(5), [nParams]), (q) => 1e-4 * q);
      let moments = tf.tensor1d([...m, ...v]);
      for (let t = 1; t <= 2; t++) {
        const ref = runKernel(MLP_GRADIENT_REGRESSION_KERNEL, { params, x, targets: u, rowWeights: c });
        const g: number[] = [];
        for (const gt of ref.gradients.slice(0, -1)) g.push(...(await gt.data()));
        const refLoss = (await ref.loss.data())[0]!;
        tf.dispose([ref.loss, ...ref.gradients]);
        const w0: number[] = [];
        for (const w of trained) w0.push(...(await w.data()));
        const bias0 = (await ws.at(-1)!.data())[0]!;
        const c1 = 1 - ADAM.beta1 ** t;
        const c2 = 1 - ADAM.beta2 ** t;
        const out = runKernel(MLP_GRADIENT_REGRESSION_ADAM_KERNEL, {
          params,
          x,
          targets: u,
          rowWeights: c,
          adam: { ...ADAM, biasCorrection1: c1, biasCorrection2: c2 },
          moments,
        });
        let norm = 0;
        const want: number[] = [];
        for (let p = 0; p < nParams; p++) {
          m[p] = ADAM.beta1 * m[p]! + (1 - ADAM.beta1) * g[p]!;
          v[p] = ADAM.beta2 * v[p]! + (1 - ADAM.beta2) * g[p]! ** 2;
          want.push(w0[p]! - ADAM.learningRate * (m[p]! / c1 / (Math.sqrt(v[p]! / c2) + ADAM.epsilon)));
          norm += g[p]! ** 2;
        }
        const [loss, gradNorm] = await out.metrics.data();
        const what = `${widths} step ${t}`;
        expectClose([loss!], [refLoss], `${what} loss`);
        expectClose([gradNorm!], [Math.sqrt(norm)], `${what} gradNorm`);
        expect(out.weights).toHaveLength(trained.length);
        const mv = await out.moments.data();
        expectClose(mv.slice(0, 2 * nParams), [...m, ...v], `${what} moments`);
        const got: number[] = [];
        for (const w of out.weights) got.push(...(await w.data()));
        expectClose(got, want, `${what} weights`);
        out.weights.forEach((w, k) => {
          expect(w.shape).toEqual(trained[k]!.shape);
          trained[k]!.assign(w);
        });
        expect((await ws.at(-1)!.data())[0]).toBe(bias0);
        tf.dispose([...out.weights, out.metrics, moments]);
        moments = out.moments;
      }
      tf.dispose([x, u, c, moments]);
      energy.dispose();
    }
  }, 600_000);

  it('bad inputs: INVALID_PARAM before any dispatch, no tensors left behind', async () => {
    const energy = new MLPEnergy({ inputDim: D, widths: [8], seed: 1 });
    const params = energy.kernelHint!.params;
    const x = tf.zeros([B, D]) as tf.Tensor2D;
    const c = tf.ones([B]) as tf.Tensor1D;
    const nParams = D * 8 + 8 + 8;
    const ok: MLPGradientRegressionAdamInputs = {
      params,
      x,
      targets: x,
      rowWeights: c,
      adam: { ...ADAM, biasCorrection1: 0.1, biasCorrection2: 0.001 },
      moments: tf.zeros([2 * nParams]) as tf.Tensor1D,
    };
    const cases: [string, Partial<MLPGradientRegressionAdamInputs>][] = [
      ['moments', { moments: tf.zeros([2 * nParams - 1]) as tf.Tensor1D }],
      ['adam.biasCorrection1', { adam: { ...ok.adam, biasCorrection1: 0 } }],
      ['adam.beta2', { adam: { ...ok.adam, beta2: 1.5 } }],
      ['adam', { adam: undefined as never }],
      ['rowWeights', { rowWeights: tf.ones([B + 1]) as tf.Tensor1D }],
    ];
    for (const [arg, patch] of cases) {
      await expectNoLeaks(() => {
        let err: unknown;
        try {
          runKernel(MLP_GRADIENT_REGRESSION_ADAM_KERNEL, { ...ok, ...patch });
        } catch (e) {
          err = e;
        }
        expect(isEbmError(err, 'INVALID_PARAM') && err.argument === arg, arg).toBe(true);
        return 0;
      });
      for (const t of Object.values(patch)) if (t instanceof tf.Tensor) t.dispose();
    }
    tf.dispose([x, c, ok.moments]);
    energy.dispose();
  });
});
