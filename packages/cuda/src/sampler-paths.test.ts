import {
  chainKernelName,
  disposeSampleResult,
  type EnergyFunction,
  isEbmError,
  normalArray,
  rngKey,
  type SamplerState,
} from '@ebm/core';
import {
  countKernelCalls,
  expectKsTwoSample,
  expectNoLeaks,
  testSeed,
  webGpuForTests,
  withoutKernelImpls,
} from '@ebm/core/testing';
import * as M from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// Which path a sampler's sample() runs on webgpu (fused whole chain, traced whole chain, step loop), and that the
// paths agree: the whole chain draws the step loop's stream (startStep), so with the same seed a fused run and a
// step-loop run agree to float32 rounding chain by chain. Small problems: lavapipe emulates the GPU on the CPU.
const { available: gpuOk } = await webGpuForTests(() => setupWebGpu(), 'WebGPU sampler-path tests');
await tf.setBackend('cpu');

/** Runs `fn` with the webgpu kernels `names` removed (restored afterwards). */
export const without = <T>(names: string[], fn: () => Promise<T>): Promise<T> =>
  withoutKernelImpls(names, 'webgpu', fn);

/** Runs `fn` counting calls of the webgpu kernel `name` (which must be registered). */
export const counting = <T>(name: string, fn: () => Promise<T>): Promise<[T, number]> =>
  countKernelCalls(name, 'webgpu', fn);

const gaussian = () =>
  new M.Gaussian({
    mean: [1, -1, 0.5],
    covariance: [
      [1, 0.3, 0],
      [0.3, 2, 0],
      [0, 0, 0.5],
    ],
  });

type Make = (e: EnergyFunction) => LangevinDynamics | MALA | HamiltonianMonteCarlo;
const SAMPLERS: Record<string, Make> = {
  Langevin: (e) => new LangevinDynamics(e, { stepSize: 0.02 }),
  MALA: (e) => new MALA(e, { stepSize: 0.1 }),
  HMC: (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 3 }),
};

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0);

/** Chains whose rows agree within `tol` (MH decisions can flip where log u and log α agree to rounding). */
function matchingRows(a: ArrayLike<number>, b: ArrayLike<number>, d: number, tol = 1e-3): number {
  let n = 0;
  for (let c = 0; c < a.length / d; c++) {
    let ok = true;
    for (let j = 0; j < d; j++) if (!(Math.abs(a[c * d + j]! - b[c * d + j]!) < tol)) ok = false;
    if (ok) n++;
  }
  return n;
}

describe.skipIf(!gpuOk)('sampler paths on webgpu: one stream for the whole chain and the step loop', () => {
  const seed = testSeed('cuda-sampler-paths');
  const [B, D] = [16, 3];
  let x0: tf.Tensor2D;
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
    x0 = tf.tensor2d(normalArray(rngKey(seed), [B, D], 0, 0.7), [B, D]);
  });
  afterAll(async () => {
    x0.dispose();
    await tf.setBackend('cpu');
  });

  for (const [name, make] of Object.entries(SAMPLERS)) {
    it(`${name}: sample() through chain.gaussian equals the step loop chain by chain (fresh and resumed)`, async () => {
      const s = make(gaussian());
      const kernel = chainKernelName('gaussian');
      const opts = { x0, nSteps: 12, burnIn: 3, seed };
      const [fused, calls] = await counting(kernel, () => s.sample(opts));
      expect(calls).toBe(1);
      const loop = await without([kernel, 'chainTrace.gaussian'], () => s.sample(opts));
      const a = await fused.samples.data();
      const b = await loop.samples.data();
      expect(matchingRows(a, b, D)).toBeGreaterThanOrEqual(B - 1);
      tf.dispose([fused.samples, loop.samples]);
      // Resumed from a state at step 5: the whole chain starts its stream at step 5, as the loop does.
      const first = await without([kernel], () => s.sample({ x0, nSteps: 5, seed, keepState: true }));
      const st = first.finalState as SamplerState;
      const [resumed, calls2] = await counting(kernel, () =>
        s.sample({ resumeFrom: st as never, nSteps: 10, seed }),
      );
      expect(calls2).toBe(1);
      const whole = await without([kernel], () => s.sample({ x0, nSteps: 15, seed }));
      expect(
        matchingRows(await resumed.samples.data(), await whole.samples.data(), D),
      ).toBeGreaterThanOrEqual(B - 1);
      disposeSampleResult(first);
      tf.dispose([resumed.samples, whole.samples]);
    });
  }

  for (const [name, make] of Object.entries(SAMPLERS)) {
    it(`${name}: diagnostics and an x trajectory run through chainTrace.gaussian with the step loop's records`, async () => {
      const energy = gaussian();
      const s = make(energy);
      const trace = 'chainTrace.gaussian';
      const opts = { x0, nSteps: 12, burnIn: 3, thin: 2, seed, trajectory: true, diagnostics: true } as const;
      const [traced, calls] = await counting(trace, () =>
        expectNoLeaks(() => s.sample(opts), { keepOutputs: true }),
      );
      expect(calls).toBeGreaterThanOrEqual(1);
      const loop = await without([chainKernelName('gaussian'), trace], () => s.sample(opts));
      const nKept = 6;
      // Same keys and shapes as the step loop.
      const shapes = (r: typeof traced) =>
        Object.fromEntries(Object.entries(r.diagnostics!).map(([k, v]) => [k, (v as tf.Tensor).shape]));
      expect(shapes(traced)).toEqual(shapes(loop));
      expect(Object.keys(traced.trajectory!)).toEqual(['x']);
      expect(traced.trajectory!.x!.shape).toEqual([B, nKept, D]);
      expect(traced.diagnostics!.mean.shape).toEqual([nKept, D]);
      if (name !== 'Langevin') {
        expect(Object.keys(traced.diagnostics!).sort()).toEqual(
          ['acceptProb', 'acceptanceRate', 'energy', 'isAccepted', 'mean', 'var'].sort(),
        );
      }
      // Same stream: the kept positions agree chain by chain with the step loop's.
      const tx = await traced.trajectory!.x!.data();
      const lx = await loop.trajectory!.x!.data();
      expect(matchingRows(tx, lx, nKept * D)).toBeGreaterThanOrEqual(B - 1);
      // Same meaning: mean/var/energy are the chain statistics of the kept positions.
      const [mean, v, e] = await Promise.all(
        [traced.diagnostics!.mean, traced.diagnostics!.var, traced.diagnostics!.energy!].map((t) => t.data()),
      );
      for (let k = 0; k < nKept; k++) {
        const rows: number[][] = [];
        for (let c = 0; c < B; c++)
          rows.push(Array.from(tx.slice((c * nKept + k) * D, (c * nKept + k + 1) * D)));
        const xk = tf.tensor2d(rows);
        const et = energy.energy(xk);
        const ek = await et.data();
        tf.dispose([xk, et]);
        expect(e![k]!).toBeCloseTo(sum(ek) / B, 3);
        for (let j = 0; j < D; j++) {
          const col = rows.map((r) => r[j]!);
          const m = col.reduce((a, b) => a + b, 0) / B;
          const vv = col.reduce((a, b) => a + (b - m) ** 2, 0) / B;
          expect(mean![k * D + j]!).toBeCloseTo(m, 4);
          expect(v![k * D + j]!).toBeCloseTo(vv, 3);
        }
      }
      // Acceptance: the same series to within one chain's decision per step.
      if (name !== 'Langevin') {
        for (const f of ['isAccepted', 'acceptanceRate', 'acceptProb'] as const) {
          const a = await (traced.diagnostics as Record<string, tf.Tensor>)[f]!.data();
          const b = await (loop.diagnostics as Record<string, tf.Tensor>)[f]!.data();
          for (let k = 0; k < nKept; k++)
            expect(Math.abs(a[k]! - b[k]!), `${f}[${k}]`).toBeLessThanOrEqual(1.01 / B);
        }
      }
      disposeSampleResult(traced);
      disposeSampleResult(loop);
    });
  }

  it('statistics of traced MALA diagnostics agree with the step loop on an independent seed (KS on kept x)', async () => {
    const s = new MALA(gaussian(), { stepSize: 0.3 });
    const opts = {
      nSamples: 256,
      dim: D,
      nSteps: 40,
      burnIn: 20,
      thin: 10,
      trajectory: true,
      diagnostics: true,
    };
    const [traced, calls] = await counting('chainTrace.gaussian', () => s.sample({ ...opts, seed }));
    expect(calls).toBe(1);
    const loop = await without([chainKernelName('gaussian'), 'chainTrace.gaussian'], () =>
      s.sample({ ...opts, seed: seed + 1 }),
    );
    const a = await traced.trajectory!.x!.data();
    const b = await loop.trajectory!.x!.data();
    // Coordinate 0 of every kept state: the same law (KS two-sample, the kit's false-fail rate).
    const col = (d: ArrayLike<number>) => Array.from({ length: d.length / D }, (_, i) => d[i * D]!);
    expectKsTwoSample(col(a), col(b), { seed, label: 'traced vs step-loop MALA kept x[0]' });
    const ar = sum(await traced.diagnostics!.acceptanceRate!.data()) / 4;
    const br = sum(await loop.diagnostics!.acceptanceRate!.data()) / 4;
    expect(Math.abs(ar - br)).toBeLessThan(0.05); // 4 × 256 chain-steps each: sd of the mean ≈ 0.01
    disposeSampleResult(traced);
    disposeSampleResult(loop);
  });

  it("workers: an explicit count on webgpu is an EbmError naming the option; 'auto' runs the usual path", async () => {
    const s = new LangevinDynamics(gaussian(), { stepSize: 0.02 });
    await expect(s.sample({ x0, nSteps: 3, seed, workers: 2 })).rejects.toSatisfy(
      (e) => isEbmError(e, 'INVALID_PARAM') && e.argument === 'workers' && /webgpu/.test(e.message),
    );
    const [r, calls] = await counting(chainKernelName('gaussian'), () =>
      s.sample({ x0, nSteps: 3, seed, workers: 'auto' }),
    );
    expect(calls).toBe(1);
    expect(r.workers).toBe(0);
    r.samples.dispose();
  });
});
