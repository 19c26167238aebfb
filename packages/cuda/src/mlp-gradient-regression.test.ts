import {
  isEbmError,
  MLP_GRADIENT_REGRESSION_KERNEL,
  type MLPGradientRegressionInputs,
  normalArray,
  rngKey,
  runKernel,
  uniformArray,
} from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { type Activation, MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupWebGpu } from './index.js';

// The fused gradient regression (train.mlpGradientRegression, mlp-gradient-regression.ts): loss
// Σ c‖∇ₓV + u‖² and every parameter gradient against tfjs autograd's double back-propagation, on lavapipe in CI.
// Tolerance: float32 sums in another order; per tensor ‖Δ‖₂ ≤ 1e-4·‖ref‖₂ + 1e-6 and per entry
// |Δ| ≤ 1e-5·max|ref| + 1e-3·|ref| (observed ~1e-6 relative).
const { available: gpuOk } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'WebGPU gradient-regression tests',
);

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  let scale = 0;
  let ref2 = 0;
  let diff2 = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    ref2 += b[i]! ** 2;
    diff2 += (a[i]! - b[i]!) ** 2;
  }
  expect(Math.sqrt(diff2), `${what}: ‖Δ‖`).toBeLessThanOrEqual(1e-4 * Math.sqrt(ref2) + 1e-6);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) - (1e-5 * scale + 1e-3 * Math.abs(b[i]!)));
  }
  expect(worst, `${what}: worst excess error`).toBeLessThanOrEqual(0);
}

const B = 10;
const D = 3;

function setup(activation: Activation | readonly Activation[], widths: number[]) {
  const energy = new MLPEnergy({ inputDim: D, widths, activation, seed: 7 });
  const x = tf.tensor2d(normalArray(rngKey(1), [B, D]), [B, D]);
  const u = tf.tensor2d(normalArray(rngKey(2), [B, D]), [B, D]);
  // Row weights in [−0.5, 1.5) with one zero row.
  const cw = Array.from(uniformArray(rngKey(3), [B]), (v, i) => (i === 3 ? 0 : 2 * v - 0.5));
  const c = tf.tensor1d(cw);
  return { energy, x, u, c };
}

/** Autograd (double back-propagation through MLPEnergy's exact activations): loss and per-weight gradients. */
async function autograd(energy: MLPEnergy, x: tf.Tensor2D, u: tf.Tensor2D, c: tf.Tensor1D) {
  const vars = energy.trainableVariables;
  const { value, grads } = tf.variableGrads(() => {
    const g = energy.gradient(x, { checkFinite: false });
    return tf.sum(tf.mul(c, tf.sum(tf.square(tf.add(g, u)), 1))) as tf.Scalar;
  }, vars);
  const loss = (await value.data())[0]!;
  // V's output bias does not move ∇ₓV: autograd has no gradient for it (zeros).
  const g = await Promise.all(vars.map((v) => grads[v.name]?.data() ?? new Float32Array(v.size)));
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, g };
}

describe.skipIf(!gpuOk)('train.mlpGradientRegression on webgpu', () => {
  it('loss and every parameter gradient equal tfjs double back-propagation (silu, swish, tanh, elu, leakyRelu, per layer)', async () => {
    await tf.setBackend('webgpu');
    for (const [act, widths] of [
      ['silu', [16, 8, 12]],
      ['swish', [6]],
      ['tanh', [9, 5]],
      ['elu', [7, 11]],
      ['leakyRelu', [8, 6]],
      // Energy Matching's ReLU first layer, SiLU after; and an ELU (φ'' ≠ 0) below a ReLU.
      [
        ['relu', 'silu', 'silu'],
        [12, 9, 6],
      ],
      [
        ['elu', 'relu'],
        [7, 5],
      ],
    ] as const) {
      const { energy, x, u, c } = setup(act, [...widths]);
      const ref = await autograd(energy, x, u, c);
      const before = tf.memory().numTensors;
      const out = runKernel(MLP_GRADIENT_REGRESSION_KERNEL, {
        params: energy.kernelHint!.params,
        x,
        targets: u,
        rowWeights: c,
      });
      expect(tf.memory().numTensors - before).toBe(1 + out.gradients.length);
      expect(out.loss.shape).toEqual([]);
      const weights = energy.kernelHint!.params.weights as tf.Tensor[];
      expect(out.gradients.map((t) => t.shape)).toEqual(weights.map((w) => w.shape));
      expectClose([(await out.loss.data())[0]!], [ref.loss], `${act} loss`);
      for (let k = 0; k < weights.length; k++) {
        expectClose(await out.gradients[k]!.data(), ref.g[k]!, `${act} gradient ${k}`);
      }
      tf.dispose([out.loss, ...out.gradients, x, u, c]);
      energy.dispose();
    }
  });

  it('rejects bad inputs before any dispatch (INVALID_PARAM, NOT_IMPLEMENTED) without leaking', async () => {
    await tf.setBackend('webgpu');
    const { energy, x, u, c } = setup('silu', [4]);
    const params = energy.kernelHint!.params;
    const good: MLPGradientRegressionInputs = { params, x, targets: u, rowWeights: c };
    const short = tf.zeros([B - 1]);
    const ints = tf.zeros([B, D], 'int32');
    // Over any device's workgroup memory (3·4096 + 2·1024 floats ≈ 57 kB).
    const wide = [D, 1024, 1024, 1024, 1024].flatMap((n, l, a) => {
      const out = l + 1 < a.length ? a[l + 1]! : 1;
      return [tf.zeros([n, out]), tf.zeros([out])];
    });
    const cases: [string, string, Partial<MLPGradientRegressionInputs>][] = [
      ['INVALID_PARAM', 'x', { x: tf.zeros([B, D + 1]) as tf.Tensor2D }],
      ['INVALID_PARAM', 'targets', { targets: ints as tf.Tensor2D }],
      ['INVALID_PARAM', 'rowWeights', { rowWeights: short as tf.Tensor1D }],
      [
        'INVALID_PARAM',
        'params.weights[0]',
        {
          params: { ...params, weights: params.weights.map((w) => Array.from((w as tf.Tensor).dataSync())) },
        },
      ],
      ['NOT_IMPLEMENTED', 'params.activation', { params: { ...params, activation: 'gelu' as 'silu' } }],
      ['NOT_IMPLEMENTED', 'params.activation', { params: { ...params, activation: ['gelu' as 'silu'] } }],
      // One hidden layer, two activations.
      ['INVALID_PARAM', 'params.activation', { params: { ...params, activation: ['relu', 'silu'] } }],
      [
        'NOT_IMPLEMENTED',
        'params.sizes',
        {
          params: {
            sizes: [D, 1024, 1024, 1024, 1024, 1],
            activation: 'silu',
            leakySlope: 0.2,
            weights: wide,
          },
        },
      ],
    ];
    for (const [code, argument, patch] of cases) {
      await expectNoLeaks(() => {
        let err: unknown;
        try {
          runKernel(MLP_GRADIENT_REGRESSION_KERNEL, { ...good, ...patch });
        } catch (e) {
          err = e;
        }
        expect(isEbmError(err) && err.code === code, String(err)).toBe(true);
        expect((err as { argument?: string }).argument).toBe(argument);
      });
    }
    for (const [, , patch] of cases) {
      tf.dispose((Object.values(patch) as unknown[]).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    }
    tf.dispose([short, ints, x, u, c, ...wide]);
    energy.dispose();
  });
});
