import { chainKernelName, normalArray, rngKey, TemperatureScheduler } from '@ebm/core';
import { countKernelCalls, expectNoLeaks, withoutKernelHint } from '@ebm/core/testing';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LangevinDynamics } from '../src/index.js';

// LangevinDynamics with a noiseScale scheduler (TorchEBM's / the EqM paper's TemperatureScheduler) runs the whole
// chain through chain.<kind> with the scheduler's per-step values as `noiseScales`. Same key and start step as the
// step loop: the kernel draws the step loop's stream, so fused and composite runs agree to float32 rounding.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('LangevinDynamics with a noiseScale scheduler: the fused chain with per-step scales', () => {
  it('runs chain.mlp once per run and equals the autograd step loop to float32 rounding, without leaks', async () => {
    const e = new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: 4 });
    const x0 = tf.tensor2d(normalArray(rngKey(2), [24, 2]), [24, 2]);
    const noiseScale = new TemperatureScheduler(0.15, { tauStar: 0.5, nSteps: 30 });
    const s = new LangevinDynamics(e, { stepSize: 0.02, noiseScale });
    const mlpChain = chainKernelName('mlp');
    const [r, calls] = await countKernelCalls(mlpChain, 'cpu', () =>
      expectNoLeaks(() => s.sample({ x0, nSteps: 30, seed: 9 }), { keepOutputs: true, warmup: 0 }),
    );
    expect(calls).toBe(1);
    const [ref, refCalls] = await countKernelCalls(mlpChain, 'cpu', () =>
      withoutKernelHint(e, () => s.sample({ x0, nSteps: 30, seed: 9 })),
    );
    expect(refCalls).toBe(0);
    const got = await r.samples.data();
    const want = await ref.samples.data();
    let maxErr = 0;
    let maxMove = 0;
    const start = await x0.data();
    for (let i = 0; i < got.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
      maxMove = Math.max(maxMove, Math.abs(got[i]! - start[i]!));
    }
    expect(maxErr).toBeLessThan(1e-4);
    expect(maxMove).toBeGreaterThan(0.05); // the chains moved
    // A constant scheduler value would differ: the scales were applied per step.
    const flat = new LangevinDynamics(e, { stepSize: 0.02, noiseScale: Math.sqrt(0.15) });
    const c = await flat.sample({ x0, nSteps: 30, seed: 9 });
    const other = await c.samples.data();
    let diff = 0;
    for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i]! - other[i]!));
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([r.samples, ref.samples, c.samples, x0]);
    e.dispose();
  });
});
