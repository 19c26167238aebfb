/**
 * Host-solved couplings in training on WebGPU (Dawn; Mesa lavapipe on CPU-only machines): `fit` with exact-OT
 * Equilibrium Matching and Energy Matching runs without a synchronous read (the coupling's cost is read with
 * `await data()` in the loss's pre-pass, before the gradient tape), pairs exactly as the sync path does on cpu,
 * and leaks nothing on success or when the energy throws; the sync `compute` names `fit` / `computeAsync`.
 * Skipped without an adapter unless EBM_TEST_WEBGPU=1. Kept tiny: lavapipe is slow.
 */

import { isEbmError, type RngKey, rngKey, splitKey, uniformArray } from '@ebm/core';
import { expectNoLeaks, ThrowingEnergy, webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy, TimeConditionedMLP } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  type BaseLoss,
  coupledPair,
  EnergyMatchingLoss,
  EquilibriumMatchingLoss,
  fit,
} from '../src/index.js';

const { available } = await webGpuForTests(() => setupWebGpu({ kernels: false }), 'coupling webgpu tests');

/** Counts synchronous reads (Tensor `dataSync` / `arraySync` / `bufferSync`, the backend's `readSync`). */
async function countSyncReads<T>(fn: () => Promise<T>): Promise<{ value: T; reads: number }> {
  const proto = tf.Tensor.prototype;
  const spies = [
    vi.spyOn(proto, 'dataSync'),
    vi.spyOn(proto, 'arraySync'),
    vi.spyOn(proto, 'bufferSync'),
    vi.spyOn(tf.backend(), 'readSync'),
  ];
  try {
    const value = await fn();
    return { value, reads: spies.reduce((s, sp) => s + sp.mock.calls.length, 0) };
  } finally {
    for (const sp of spies) sp.mockRestore();
  }
}

const B = 16;
// x₁ rows: two clusters, so the exact-OT assignment is far from the identity
const host = Float32Array.from(uniformArray(rngKey(5), [B * 2]), (u, i) => 4 * u - 2 + (i < B ? 3 : -3));

describe.skipIf(!available)('exact-OT couplings in training on webgpu', () => {
  const mlp = available ? new MLPEnergy({ inputDim: 2, widths: [8], seed: 1 }) : undefined;
  const field = available ? new TimeConditionedMLP({ dim: 2, widths: [8], seed: 2 }) : undefined;
  const data = available ? tf.tensor2d(host, [B, 2]) : undefined;
  afterAll(() => {
    mlp?.dispose();
    field?.dispose();
    data?.dispose();
  });

  const cases: [string, () => BaseLoss, number][] = [
    [
      'EquilibriumMatchingLoss',
      () => new EquilibriumMatchingLoss(field!, { coupling: 'exactOt', seed: 3 }),
      3, // computeParts splits its key in 3: noise, time, coupling
    ],
    [
      'EnergyMatchingLoss',
      () => new EnergyMatchingLoss(mlp!, { coupling: 'exactOt', nLangevinSteps: 2, warmupSteps: 1, seed: 3 }),
      5, // noise, time, coupling, ξ, negatives
    ],
  ];

  for (const [name, make, nKeys] of cases) {
    it(`${name}: fit runs with exactOt and makes no synchronous read`, async () => {
      expect(tf.getBackend()).toBe('webgpu');
      const loss = make();
      const optimizer = tf.train.adam(1e-3);
      const { value: res, reads } = await countSyncReads(() =>
        fit({ loss, optimizer, data: data!, steps: 2, checkpointEvery: 2, seed: 1 }),
      );
      expect(reads).toBe(0);
      expect(res.step).toBe(2);
      for (const m of res.history) {
        expect(Number.isFinite(m.loss)).toBe(true);
        expect(Number.isFinite(m.gradNorm)).toBe(true);
      }
      if (name === 'EnergyMatchingLoss') expect(res.history[1]!.metrics.cdGap).toBeDefined();
      optimizer.dispose();
    });

    it(`${name}: the sync compute() names fit / computeAsync; computeAsync runs`, async () => {
      const loss = make();
      try {
        loss.compute(data!);
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e, 'BACKEND_UNAVAILABLE')).toBe(true);
        expect(String(e)).toMatch(/compute\(\) with the "exactOt" coupling/);
        expect(String((e as { fix?: string }).fix)).toMatch(/fit\(\).*computeAsync/);
      }
      const out = await loss.computeAsync(data!);
      expect(Number.isFinite((await out.loss.data())[0]!)).toBe(true);
      tf.dispose([out.loss, ...Object.values(out.metrics), ...(out.negatives ? [out.negatives] : [])]);
    });

    it(`${name}: the prepared pairing equals the sync pairing on cpu (same key)`, async () => {
      const loss = make();
      const key = rngKey(9);
      const [kNoise, , kCouple] = splitKey(key, nKeys) as [RngKey, RngKey, RngKey];
      const prepared = await loss.prepare(data!, { key });
      const pair = prepared.pairFor(kNoise, kCouple, data!)!;
      expect(pair).toBeDefined();
      const gpu = { x0: await pair.x0.data(), x1: await pair.x1.data() };
      prepared.dispose();
      await tf.setBackend('cpu');
      try {
        const coupling = (loss as unknown as { coupling: Parameters<typeof coupledPair>[0] }).coupling;
        const d = tf.tensor2d(host, [B, 2]);
        const cpu = tf.tidy(() => {
          const r = coupledPair(coupling, d, kNoise, kCouple, undefined, name);
          return { x0: r.x0.dataSync(), x1: r.x1.dataSync() };
        });
        d.dispose();
        // x₁ rows are copies of the data rows: equal bit for bit when the permutation is the same
        expect(Array.from(gpu.x1)).toEqual(Array.from(cpu.x1));
        // so the pairing is not the identity (the test would be vacuous)
        expect(Array.from(cpu.x1)).not.toEqual(Array.from(host));
        for (let i = 0; i < gpu.x0.length; i++) expect(gpu.x0[i]).toBeCloseTo(cpu.x0[i]!, 5);
      } finally {
        await tf.setBackend('webgpu');
      }
    });
  }

  it('leak-free on success and when the energy throws (fit and computeAsync)', async () => {
    for (const [, make] of cases) {
      const loss = make();
      // one optimizer per model (Adam's moments are keyed by variable name)
      const opt = tf.train.adam(1e-3);
      await expectNoLeaks(() => fit({ loss, optimizer: opt, data: data!, steps: 2, seed: 1 }).then(() => 0));
      opt.dispose();
      await expectNoLeaks(async () => {
        const out = await loss.computeAsync(data!);
        tf.dispose([out.loss, ...Object.values(out.metrics), ...(out.negatives ? [out.negatives] : [])]);
        return 0;
      });
    }
    const optimizer = tf.train.adam(1e-3);
    const boom = new ThrowingEnergy(mlp!, 1);
    const em = new EnergyMatchingLoss(boom, { coupling: 'exactOt', nLangevinSteps: 2 });
    await expectNoLeaks(async () => {
      boom.reset();
      await expect(
        fit({ loss: em, optimizer, data: data!, steps: 1, variables: mlp!.trainableVariables }),
      ).rejects.toThrow(/energy failed/);
      boom.reset();
      await expect(em.computeAsync(data!)).rejects.toThrow(/energy failed/);
      return 0;
    });
    const fail = (x: tf.Tensor2D): tf.Tensor2D => {
      tf.mul(x, 2);
      throw new Error('boom');
    };
    const eqm = new EquilibriumMatchingLoss(fail, {
      coupling: 'exactOt',
      variables: mlp!.trainableVariables,
    });
    await expectNoLeaks(async () => {
      await expect(fit({ loss: eqm, optimizer, data: data!, steps: 1 })).rejects.toThrow('boom');
      return 0;
    });
    optimizer.dispose();
  });
});
