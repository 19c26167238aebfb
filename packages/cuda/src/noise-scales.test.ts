import { chainKernelName, foldIn, isEbmError, normalArray, rngKey, runKernel } from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import * as M from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chainTraceKernelName, setupWebGpu } from './index.js';

// Per-step noise scales σ_t (`noiseScales`, a tempered chain) in the WebGPU whole-chain programs: one call of
// N steps equals N one-step calls at σ_t with startStep t (the same stream), for the row program (every kind,
// also separable ones, which leave their separable program for it), the cooperative MLP program and the traced
// program. Small problems: lavapipe compiles each shader with LLVM.
const { available: gpuOk } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'WebGPU noiseScales tests',
);

const SCALES = [0, 0, 0.125, 0.25, 0.5, 1, 0.75];

describe.skipIf(!gpuOk)('WebGPU whole chains with per-step noiseScales', () => {
  it('equal one-step calls at σ_t (row program: harmonic, mlp; cooperative mlp; traced), without leaks', async () => {
    await tf.setBackend('webgpu');
    const [B, D, N] = [22, 2, SCALES.length];
    const key = rngKey(5);
    const x0 = tf.tensor2d(normalArray(foldIn(key, 1), [B, D]), [B, D]);
    const mlp = new M.MLPEnergy({ inputDim: 2, widths: [8, 4], activation: 'silu', seed: 4 });
    const cases: [string, string, Record<string, unknown>, Record<string, unknown>][] = [
      ['harmonic', 'harmonic', { k: 2 }, {}],
      ['mlp row', 'mlp', mlp.kernelHint!.params as never, { mlpCooperative: 0 }],
      ['mlp cooperative', 'mlp', mlp.kernelHint!.params as never, { mlpCooperative: 1 }],
    ];
    for (const [label, kind, params, extra] of cases) {
      const settings = { stepSize: 0.05, noiseScale: 1, ...extra };
      // The whole chain's inputs, for chain.<kind> and (with thin) chainTrace.<kind>.
      const inputs = {
        method: 'langevin',
        x0,
        nSteps: N,
        key,
        startStep: 3,
        params,
        settings,
        noiseScales: Float32Array.from(SCALES),
      };
      const out = await expectNoLeaks(
        () => runKernel(chainKernelName(kind), inputs as never) as tf.Tensor2D,
        {
          keepOutputs: true,
          warmup: 0,
        },
      );
      let x = x0;
      for (let t = 0; t < N; t++) {
        const next = runKernel(chainKernelName(kind), {
          method: 'langevin',
          x0: x,
          nSteps: 1,
          key,
          startStep: 3 + t,
          params,
          settings: { ...settings, noiseScale: SCALES[t]! },
        } as never) as tf.Tensor2D;
        if (x !== x0) x.dispose();
        x = next;
      }
      const got = await out.data();
      const want = await x.data();
      const start = await x0.data();
      let worst = 0;
      let moved = 0;
      for (let i = 0; i < got.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        moved = Math.max(moved, Math.abs(got[i]! - start[i]!));
      }
      expect(worst, label).toBeLessThan(1e-5);
      expect(moved, label).toBeGreaterThan(0.01);
      if (label === 'mlp row') {
        const tr = runKernel(chainTraceKernelName(kind), { ...inputs, thin: 3 } as never) as {
          x: tf.Tensor2D;
          mean?: tf.Tensor;
          var?: tf.Tensor;
          energy?: tf.Tensor;
        };
        const tx = await tr.x.data();
        let tw = 0;
        for (let i = 0; i < tx.length; i++) tw = Math.max(tw, Math.abs(tx[i]! - want[i]!));
        expect(tw, 'traced').toBeLessThan(1e-5);
        tf.dispose([tr.x, tr.mean!, tr.var!, tr.energy!]);
      }
      tf.dispose([out, x]);
    }
    // Bad scales: INVALID_PARAM; other methods: NOT_IMPLEMENTED.
    const code = (inputs: Record<string, unknown>) => {
      try {
        tf.dispose(runKernel(chainKernelName('harmonic'), { x0, key, params: { k: 1 }, ...inputs } as never));
      } catch (e) {
        return isEbmError(e) ? e.code : 'other';
      }
      return undefined;
    };
    const lang = { method: 'langevin', nSteps: 3, settings: { stepSize: 0.1, noiseScale: 1 } };
    expect(code({ ...lang, noiseScales: new Float32Array(2) })).toBe('INVALID_PARAM');
    expect(code({ ...lang, noiseScales: Float32Array.from([0, -1, 0]) })).toBe('INVALID_PARAM');
    expect(
      code({ method: 'mala', nSteps: 3, settings: { stepSize: 0.1 }, noiseScales: new Float32Array(3) }),
    ).toBe('NOT_IMPLEMENTED');
    x0.dispose();
    mlp.dispose();
  }, 300_000);
});
