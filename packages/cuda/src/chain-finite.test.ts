import { isEbmError } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import * as M from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// Issue 11: the rare non-finite DoubleWell chains (H200, 1 in 4096 at 4096×32×1000, ~12 in 2²⁰ at 2²⁰×32×50), and
// the whole chain's fixed cost in sample(). On lavapipe in CI.
const required = process.env.EBM_TEST_WEBGPU === '1';
const gpuOk = await setupWebGpu().then(
  () => true,
  (e: unknown) => {
    if (required) throw e;
    console.warn(`[ebm] WebGPU chain finite-check tests skipped (no adapter): ${String(e)}`);
    return false;
  },
);
await tf.setBackend('cpu');

/** The internals of tfjs-webgpu's backend that the counts below wrap. */
interface WebGpuInternals {
  runWebGPUProgram: (...a: unknown[]) => unknown;
  uploadToGPU: (dataId: object) => void;
  getBufferData: (buffer: unknown) => Promise<ArrayBuffer>;
  tensorMap: { get(id: object): { resource?: unknown; values?: unknown } | undefined };
}

describe.skipIf(!gpuOk)('the DoubleWell whole chain on WebGPU: non-finite chains and fixed cost', () => {
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // E = h·Σ(xᵢ² − b²)², Euler–Maruyama step η: x' = x − 4ηh·x(x² − b²) + σ√(2η)ξ. Without noise |x'| > |x| iff
  // x² > b² + 1/(2ηh) — 5.099 for h = 2, b = 1, η = 0.01 — and such a chain runs off to ±∞ and then NaN. x0 ~ N(0, 1)
  // puts a coordinate there with probability 2·Φ(−5.099) = 3.4e-7: the ~11 chains in 2²⁰×32 on the H200 (TorchEBM
  // gets 10–11 there too), and chain 3747 of seed 7 at 4096×32 (x0 = 5.375). The workload, on every backend.
  it('diverges exactly where x0 is beyond the Euler escape bound, on webgpu as on cpu, and sample() reports it', async () => {
    const energy = new M.DoubleWell({ barrierHeight: 2, b: 1 });
    const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
    const v = new Float32Array(8 * 4);
    v[2 * 4 + 1] = 5.4; // beyond 5.099: runs off
    v[5 * 4 + 0] = -4.8; // inside: pulled back
    const x0 = tf.tensor2d(v, [8, 4]);
    const bad: Record<string, number[]> = {};
    for (const backend of ['webgpu', 'cpu']) {
      await tf.setBackend(backend);
      const x = tf.tensor2d(v, [8, 4]);
      const r = await sampler.sample({ x0: x, nSteps: 30, seed: 7, onNonFinite: 'ignore' });
      expect(r.nonFinite).toEqual({ chains: 1, firstStep: 30 });
      const d = await r.samples.data();
      bad[backend] = [...Array(8).keys()].filter((c) => !Number.isFinite(d[c * 4 + 1]!));
      for (let c = 0; c < 8; c++)
        if (c !== 2) for (let j = 0; j < 4; j++) expect(Math.abs(d[c * 4 + j]!)).toBeLessThan(3);
      tf.dispose([x, r.samples]);
    }
    expect(bad).toEqual({ webgpu: [2], cpu: [2] });
    await tf.setBackend('webgpu');
    const xg = tf.tensor2d(v, [8, 4]);
    await expectNoLeaks(async () => {
      await expect(sampler.sample({ x0: xg, nSteps: 30, seed: 7, onNonFinite: 'throw' })).rejects.toSatisfy(
        (e) => isEbmError(e, 'NON_FINITE'),
      );
    });
    tf.dispose([x0, xg]);
  });

  it("a whole-chain sample() is 3 dispatches (x0, step keys, chain), no upload and one read-back with the caller's", async () => {
    const sampler = new LangevinDynamics(new M.DoubleWell({ barrierHeight: 2, b: 1 }), { stepSize: 0.01 });
    const warm = await sampler.sample({ nSamples: 64, dim: 8, nSteps: 10, seed: 1 });
    warm.samples.dispose();
    const b = tf.backend() as unknown as WebGpuInternals;
    const c = { dispatches: 0, uploads: 0, reads: 0 };
    const run = b.runWebGPUProgram;
    const up = b.uploadToGPU;
    const rd = b.getBufferData;
    b.runWebGPUProgram = (...a: unknown[]) => {
      c.dispatches++;
      return run.apply(b, a);
    };
    b.uploadToGPU = (id: object) => {
      const d = b.tensorMap.get(id);
      if (d?.resource == null && d?.values != null) c.uploads++;
      up.call(b, id);
    };
    b.getBufferData = (buffer: unknown) => {
      c.reads++;
      return rd.call(b, buffer);
    };
    try {
      const r = await sampler.sample({ nSamples: 64, dim: 8, nSteps: 10, seed: 2 });
      const d = await r.samples.data(); // served from the read sample() made for its finite check
      expect(d.length).toBe(512);
      expect(r.nonFinite).toBeUndefined();
      r.samples.dispose();
    } finally {
      b.runWebGPUProgram = run;
      b.uploadToGPU = up;
      b.getBufferData = rd;
    }
    expect(c).toEqual({ dispatches: 3, uploads: 0, reads: 1 });
  });
});
