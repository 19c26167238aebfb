import { chainKernelName, foldIn, isEbmError, normalArray, rngKey, runKernel } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import * as M from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';
import { mlpLayout } from './mlp-energy.js';
import { defaultTileShape, tileShapeFor } from './mlp-tile.js';

// The register-tiled MLP Langevin program (settings.mlpVariant 'tile…', mlp-tile.ts) against the one-thread-per-
// chain program (mlpCooperative: 0) on the same keys: equal up to float32 summation rounding. Batches not a
// multiple of the tile, widths not a multiple of the thread layout, one to three hidden layers, every activation
// (one per network, or one per hidden layer), per-step noise. Small problems: lavapipe compiles each shader with LLVM.
const required = process.env.EBM_TEST_WEBGPU === '1';
const gpuOk = await setupWebGpu().then(
  () => true,
  (e: unknown) => {
    if (required) throw e;
    console.warn(`[ebm] WebGPU mlp tile tests skipped (no adapter): ${String(e)}`);
    return false;
  },
);

const key = rngKey(17);

describe('tile shapes', () => {
  const energy = new M.MLPEnergy({ inputDim: 32, widths: [128, 128], activation: 'silu', seed: 7 });
  const layout = mlpLayout(energy.kernelHint!.params as never, 32);
  it('default: 16 chains × 128 threads at 4096 chains, 4 chains at small batches; bad specs are EbmErrors', () => {
    expect(defaultTileShape(layout, 4096, 49152)).toEqual({ c: 16, t: 128, rc: 4, ru: 4 });
    expect(defaultTileShape(layout, 256, 49152)).toEqual({ c: 4, t: 32, rc: 4, ru: 4 });
    // 16 chains need 26.6 KB of workgroup memory: at WebGPU's default 16 KiB, 8.
    expect(defaultTileShape(layout, 4096, 16384)).toEqual({ c: 8, t: 64, rc: 4, ru: 4 });
    expect(tileShapeFor(layout, 4096, 'tile:32x128x8x4', 65536)).toEqual({ c: 32, t: 128, rc: 8, ru: 4 });
    expect(tileShapeFor(layout, 4096, 'tile:8x64x4x4c', 16384)).toEqual({
      c: 8,
      t: 64,
      rc: 4,
      ru: 4,
      contiguous: true,
    });
    for (const bad of [
      'tile:',
      'tile:16x128x4',
      'tile:12x128x4x4',
      'tile:16x128x2x4',
      'tile:16x96x4x4',
      'tile:64x256x4x4',
    ])
      expect(
        (() => {
          try {
            tileShapeFor(layout, 4096, bad, 49152);
          } catch (e) {
            return isEbmError(e, 'INVALID_PARAM');
          }
          return false;
        })(),
        bad,
      ).toBe(true);
  });
  energy.dispose();
});

describe.skipIf(!gpuOk)('WebGPU chain.mlp, register-tiled variant', () => {
  const run = async (
    params: unknown,
    x0: tf.Tensor2D,
    settings: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) => {
    const out = runKernel(chainKernelName('mlp'), {
      method: 'langevin',
      x0,
      nSteps: 4,
      key: foldIn(key, 3),
      params: params as never,
      settings: { stepSize: 0.02, noiseScale: 1, ...settings } as never,
      ...extra,
    } as never) as tf.Tensor2D;
    const v = (await out.data()) as Float32Array;
    out.dispose();
    return v;
  };
  const maxDiff = (a: Float32Array, b: Float32Array) =>
    Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

  it('equals the one-thread-per-chain program on the same keys (shapes, widths, layers, activations)', async () => {
    await tf.setBackend('webgpu');
    registerWebGpuKernels();
    // [inputDim, widths, activation, variants]; B = 22 is no multiple of any tile's chains. Width 40 with 16 or 8
    // threads along units: two unit blocks per thread, the last partly masked; widths 5, 6, 10: masked units.
    const cases: [number, number[], NonNullable<M.MLPEnergyOptions['activation']>, string[]][] = [
      [2, [8, 4], 'silu', ['tile', 'tile:8x16x4x2', 'tile:8x16x4x2c']],
      [3, [40, 5, 6], 'tanh', ['tile:8x16x8x2']],
      [4, [10], 'elu', ['tile:4x8x4x2']],
      [2, [6, 40], 'leakyRelu', ['tile:8x16x4x4c']],
      // Per-layer activations (Energy Matching's ReLU first layer, SiLU after).
      [2, [12, 8, 6], ['relu', 'silu', 'silu'], ['tile', 'tile:8x16x4x2']],
    ];
    const B = 22;
    for (const [D, widths, activation, variants] of cases) {
      const energy = new M.MLPEnergy({ inputDim: D, widths, activation, seed: 4 });
      const params = energy.kernelHint!.params;
      const x0 = tf.tensor2d(normalArray(foldIn(key, D), [B, D]), [B, D]);
      const ref = await run(params, x0, { mlpCooperative: 0 });
      for (const v of variants) {
        const got = await run(params, x0, { mlpCooperative: 1, mlpVariant: v });
        const label = `${D}-${widths.join('-')}-1 ${activation} ${v}`;
        expect(got.every(Number.isFinite), label).toBe(true);
        expect(maxDiff(got, ref), label).toBeLessThan(1e-4);
        expect(maxDiff(got, (await x0.data()) as Float32Array), `${label} moved`).toBeGreaterThan(0.01);
      }
      x0.dispose();
      energy.dispose();
    }
  }, 300_000);

  it('per-step noise scales, no leaks, and a bad variant is an EbmError', async () => {
    await tf.setBackend('webgpu');
    registerWebGpuKernels();
    const energy = new M.MLPEnergy({ inputDim: 2, widths: [8, 4], activation: 'silu', seed: 4 });
    const params = energy.kernelHint!.params;
    const x0 = tf.tensor2d(normalArray(foldIn(key, 9), [22, 2]), [22, 2]);
    const scales = { noiseScales: Float32Array.from([1, 0.5, 0.25, 0]) };
    const ref = await run(params, x0, { mlpCooperative: 0 }, scales);
    const settings = { stepSize: 0.02, noiseScale: 1, mlpCooperative: 1, mlpVariant: 'tile' };
    const out = await expectNoLeaks(
      () =>
        runKernel(chainKernelName('mlp'), {
          method: 'langevin',
          x0,
          nSteps: 4,
          key: foldIn(key, 3),
          params: params as never,
          settings: settings as never,
          ...scales,
        } as never) as tf.Tensor2D,
      { keepOutputs: true, warmup: 1 },
    );
    expect(maxDiff((await out.data()) as Float32Array, ref)).toBeLessThan(1e-4);
    out.dispose();
    for (const bad of ['tiles', 7, 'tile:3x8x4x4']) {
      let thrown: unknown;
      try {
        runKernel(chainKernelName('mlp'), {
          method: 'langevin',
          x0,
          nSteps: 2,
          key,
          params: params as never,
          settings: { ...settings, mlpVariant: bad } as never,
        });
      } catch (e) {
        thrown = e;
      }
      expect(isEbmError(thrown, 'INVALID_PARAM'), String(bad)).toBe(true);
    }
    x0.dispose();
    energy.dispose();
  });

  it('stays with the one-thread-per-chain program over a long run (512 chains, 200 steps): same statistics', async () => {
    // Same keys, so the same noise: the chains differ only by float32 summation rounding, which must not grow.
    await tf.setBackend('webgpu');
    registerWebGpuKernels();
    const energy = new M.MLPEnergy({ inputDim: 2, widths: [8], activation: 'tanh', seed: 2 });
    const params = energy.kernelHint!.params;
    const B = 512;
    const x0 = tf.tensor2d(normalArray(foldIn(key, 21), [B, 2]), [B, 2]);
    const tiled = await run(params, x0, { mlpCooperative: 1, mlpVariant: 'tile' }, { nSteps: 200 });
    const rowd = await run(params, x0, { mlpCooperative: 0 }, { nSteps: 200 });
    expect(maxDiff(tiled, rowd)).toBeLessThan(1e-3);
    x0.dispose();
    energy.dispose();
  });
});
