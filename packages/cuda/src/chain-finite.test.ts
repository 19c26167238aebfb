import { chainKernelName, foldIn, isEbmError, normalArray, randomNormal, rngKey, runKernel } from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import * as M from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// Issue 11: the rare non-finite DoubleWell chains (H200, 1 in 4096 at 4096×32×1000, ~12 in 2²⁰ at 2²⁰×32×50), and
// the whole chain's fixed cost in sample(). On lavapipe in CI.
const { available: gpuOk } = await webGpuForTests(() => setupWebGpu(), 'WebGPU chain finite-check tests');
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

  it("a whole-chain sample() is 1 dispatch (x0 drawn and step keys made in the chain), no upload and one read-back with the caller's", async () => {
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
    expect(c).toEqual({ dispatches: 1, uploads: 0, reads: 1 });
  });

  // The fused x0 draw and in-kernel step keys change no number: sample({ nSamples, dim }) equals, bit for bit,
  // the same run from x0 = randomNormal(foldIn(runKey, MAX_SAFE_INTEGER)) (the loop's own draw, unfused: a
  // randomNormal dispatch, then the chain), for one dispatch, for 1003 steps (two dispatches: the first draws,
  // the second reads), and for the segmented run onProgress makes (no fused draw).
  it('the fused x0 draw is bit-identical to the unfused run (1 and 2 dispatches, segments), leaking nothing', async () => {
    const sampler = new LangevinDynamics(new M.DoubleWell({ barrierHeight: 2, b: 1 }), { stepSize: 0.01 });
    for (const [B, D, N] of [
      [37, 3, 25], // 111 elements: a partial Philox block at the end
      [16, 8, 1003],
    ] as const) {
      const seed = 11 + N;
      const x0 = randomNormal(foldIn(rngKey(seed), Number.MAX_SAFE_INTEGER), [B, D]) as tf.Tensor2D;
      const ref = await sampler.sample({ x0, nSteps: N, seed });
      const want = await ref.samples.data();
      let fused: Float32Array | undefined;
      await expectNoLeaks(async () => {
        const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed });
        fused = (await r.samples.data()) as Float32Array;
        r.samples.dispose();
      });
      const seg = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed, onProgress: () => {} });
      const segmented = await seg.samples.data();
      expect(
        Buffer.from(fused!.buffer).equals(Buffer.from((want as Float32Array).buffer)),
        `${B}x${D}x${N}`,
      ).toBe(true);
      expect(Array.from(segmented)).toEqual(Array.from(want));
      tf.dispose([x0, ref.samples, seg.samples]);
    }
  });

  it('chain.doubleWell with x0Normal: keys across 2^32 steps match the host stream; bad x0Normal is INVALID_PARAM', async () => {
    const [B, D, N] = [9, 3, 6];
    const runKey = rngKey(5);
    const x0Key = foldIn(runKey, 77);
    const startStep = 2 ** 32 - 3; // the step counter's low word wraps inside the run
    const params = { barrierHeight: 2, b: 1 };
    const settings = { stepSize: 0.01, noiseScale: 1 };
    const name = chainKernelName('doubleWell');
    const inputs = {
      method: 'langevin',
      x0Normal: { key: x0Key, shape: [B, D] },
      nSteps: N,
      key: runKey,
      startStep,
    };
    const out = runKernel(name, { ...inputs, params, settings } as never) as tf.Tensor2D;
    const got = await out.data();
    out.dispose();
    // Host reference (float32): x0 = normalArray(x0Key), then x ← x − η·4h·x(x² − b²) + σ√(2η)·ξ_t.
    const f = Math.fround;
    const want = Float32Array.from(normalArray(x0Key, [B, D]));
    const amp = f(Math.sqrt(2 * 0.01));
    for (let t = 0; t < N; t++) {
      const xi = normalArray(foldIn(runKey, startStep + t), [B, D]);
      for (let i = 0; i < want.length; i++) {
        const x = want[i]!;
        const g = f(f(8 * x) * f(f(x * x) - 1));
        want[i] = f(f(x - f(g * f(0.01))) + f(xi[i]! * amp));
      }
    }
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-4);
    await expectNoLeaks(async () => {
      for (const bad of [{ key: x0Key, shape: [B] }, { key: [1.5, 0], shape: [B, D] }, null]) {
        expect(() => runKernel(name, { ...inputs, x0Normal: bad, params, settings } as never)).toThrowError(
          /INVALID_PARAM/,
        );
      }
      // A method the kernel does not run is still NOT_IMPLEMENTED (the sampler then draws x0 and steps).
      expect(() => runKernel(name, { ...inputs, method: 'nuts', params, settings } as never)).toThrowError(
        /NOT_IMPLEMENTED/,
      );
    });
  });
});
