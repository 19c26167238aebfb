import { chainKernelName, foldIn, normalArray, rngKey, runKernel } from '@ebm/core';
import {
  countKernelCalls,
  expectKsTwoSample,
  expectNoLeaks,
  testSeed,
  withoutKernelHint,
} from '@ebm/core/testing';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '../src/index.js';

// MLPEnergy carries the 'mlp' kernel hint: sample() runs whole chains through core's fused chain.mlp on cpu (no
// samplers change: tryWholeChain picks chain.<kind> from any hint). Fused vs composite (the autograd step loop,
// hint hidden): the same law (two-sample KS per coordinate); the kernel and the step function agree to float32
// rounding on one Philox stream (sums accumulate differently).

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MLPEnergy: samplers pick the fused chain.mlp on cpu', () => {
  it('sample() runs chain.mlp (once per run); the kernel is the step loop to float32 rounding on one stream', async () => {
    const e = new MLPEnergy({ inputDim: 3, widths: [16, 16], seed: 4 });
    const x0 = tf.tensor2d(normalArray(rngKey(2), [24, 3]), [24, 3]);
    const s = new LangevinDynamics(e, { stepSize: 0.02, noiseScale: 1 });
    const mlpChain = chainKernelName('mlp');
    const [r, calls] = await countKernelCalls(mlpChain, 'cpu', () => s.sample({ x0, nSteps: 20, seed: 9 }));
    expect(calls).toBe(1);
    const [ref, refCalls] = await countKernelCalls(mlpChain, 'cpu', () =>
      withoutKernelHint(e, () => s.sample({ x0, nSteps: 20, seed: 9 })),
    );
    expect(refCalls).toBe(0);
    // The kernel against the sampler's own step function with keys foldIn(K, t) (the kernel's stream).
    const key = rngKey(13);
    const fused = runKernel(mlpChain, {
      method: 'langevin',
      x0,
      nSteps: 20,
      key,
      params: e.kernelHint!.params,
      settings: { stepSize: 0.02, noiseScale: 1 },
    });
    let st = s.init(x0);
    for (let t = 0; t < 20; t++) {
      const next = s.step(st, foldIn(key, t)).state;
      s.disposeState(st);
      st = next;
    }
    const got = await fused.data();
    const want = await st.x.data();
    let maxErr = 0;
    for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
    expect(maxErr).toBeLessThan(1e-4);
    expect(maxErr).toBeGreaterThan(0); // (sums accumulate differently: a different path did run)
    s.disposeState(st);
    tf.dispose([r.samples, ref.samples, fused, x0]);
    e.dispose();
  });

  for (const [name, make] of [
    ['Langevin', (e: MLPEnergy) => new LangevinDynamics(e, { stepSize: 0.05, noiseScale: 1 })],
    ['MALA', (e: MLPEnergy) => new MALA(e, { stepSize: 0.1 })],
    ['HMC', (e: MLPEnergy) => new HamiltonianMonteCarlo(e, { stepSize: 0.1, nLeapfrogSteps: 3 })],
  ] as const) {
    it(`${name}: fused and composite runs draw from the same law (KS per coordinate, false-fail 1e-4 each)`, async () => {
      const seed = testSeed(`mlp-hint-${name}`);
      const e = new MLPEnergy({ inputDim: 2, widths: [16, 16], activation: 'tanh', seed });
      const s = make(e);
      const opts = { nSamples: 800, dim: 2, nSteps: name === 'Langevin' ? 80 : 30 };
      const fused = await expectNoLeaks(() => s.sample({ ...opts, seed }), { keepOutputs: true, warmup: 0 });
      const comp = await withoutKernelHint(e, () => s.sample({ ...opts, seed: seed + 1 }));
      const a = await fused.samples.data();
      const b = await comp.samples.data();
      for (let j = 0; j < 2; j++) {
        const col = (v: Float32Array) => v.filter((_, i) => i % 2 === j);
        expectKsTwoSample(col(a as Float32Array), col(b as Float32Array), {
          falseFailRate: 1e-4,
          seed,
          label: `${name} x${j}`,
        });
      }
      tf.dispose([fused.samples, comp.samples]);
      e.dispose();
    });
  }
});
