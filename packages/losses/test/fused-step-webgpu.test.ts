/**
 * `fit`'s fused training step on WebGPU (lavapipe on CPU-only machines): CD / PCD on an MLPEnergy with tfjs's
 * Adam go through the `train.mlpContrastiveAdam` kernel (one call per step) and give the weights, metrics and
 * optimizer state of the autograd step; any term the kernel does not cover falls back to autograd; nothing
 * leaks, on success or when a step throws. Tiny network and batch: lavapipe is slow.
 * Tolerances: the fused sums run in another order than tfjs's (float32, ~1e-6 relative on the gradient); Adam
 * divides by √v, so each step moves a weight by ~lr = 0.01 times that relative error: weights |Δ| < 2e-4 after
 * 3 steps (observed ≤ 3e-7 on lavapipe), metrics within 1e-3 relative, Adam moments |Δ| < 1e-4.
 */
import { isEbmError, MLP_CONTRASTIVE_ADAM_KERNEL, normalArray, rngKey } from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ContrastiveDivergence,
  type FitOptions,
  fit,
  PersistentContrastiveDivergence,
} from '../src/index.js';
import { kernelCounter } from './kernel-counter.js';

const { available } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'losses fused-step webgpu tests',
);

const count = kernelCounter(MLP_CONTRASTIVE_ADAM_KERNEL, available);
afterAll(() => count.restore());

const data = available ? tf.tensor2d(normalArray(rngKey(1), [48, 2]), [48, 2]) : undefined;
afterAll(() => data?.dispose());

function run(persistent: boolean, extra: Partial<FitOptions> = {}, opt = tf.train.adam(0.01)) {
  const energy = new MLPEnergy({ inputDim: 2, widths: [16, 16], activation: 'silu', seed: 3 });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.1, noiseScale: 1 });
  const common = { sampler, k: 3, energyL2: 0.01 };
  const loss = persistent
    ? new PersistentContrastiveDivergence(energy, { ...common, buffer: { capacity: 64 } })
    : new ContrastiveDivergence(energy, common);
  const go = (steps: number, more: Partial<FitOptions> = {}) =>
    fit({ loss, optimizer: opt, data: data!, batchSize: 16, steps, seed: 5, ...extra, ...more });
  const dispose = () => {
    loss.dispose?.();
    opt.dispose();
    energy.dispose();
  };
  return { energy, loss, opt, go, dispose };
}

async function flat(ts: readonly tf.Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of ts) out.push(...(await t.data()));
  return out;
}

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe.skipIf(!available)('fit with the fused train.mlpContrastiveAdam step on webgpu', () => {
  it('CD and PCD: one kernel call per step; weights, metrics and Adam state equal the autograd run', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    for (const persistent of [false, true]) {
      const a = run(persistent);
      const b = run(persistent, { fusedStep: false });
      const c0 = count.calls();
      const ra = await a.go(3);
      expect(count.calls() - c0).toBe(3);
      expect(ra.fusedSteps).toBe(3);
      const rb = await b.go(3);
      expect(count.calls() - c0).toBe(3);
      expect(rb.fusedSteps).toBe(0);
      // Weights: Adam steps of lr 0.01 from float32 gradients summed in another order.
      expect(
        maxDiff(await flat(a.energy.trainableVariables), await flat(b.energy.trainableVariables)),
      ).toBeLessThan(2e-4);
      for (let t = 0; t < 3; t++) {
        const ma = ra.history[t]!;
        const mb = rb.history[t]!;
        for (const k of ['loss', 'energyPos', 'energyNeg', 'gradNorm'] as const)
          expect(Math.abs(ma[k]! - mb[k]!), `${k} step ${t}`).toBeLessThan(1e-3 * (1 + Math.abs(mb[k]!)));
        expect(Object.keys(ma.metrics).sort()).toEqual(Object.keys(mb.metrics).sort());
      }
      // The optimizer state was written back: same slots, iteration count and accBeta as tfjs's Adam.
      const wa = await a.opt.getWeights();
      const wb = await b.opt.getWeights();
      expect(wa.map((w) => w.name.replace(/_\d+\//, '/'))).toEqual(
        wb.map((w) => w.name.replace(/_\d+\//, '/')),
      );
      expect((await wa[0]!.tensor.data())[0]).toBe(3);
      expect(
        maxDiff(await flat(wa.slice(1).map((w) => w.tensor)), await flat(wb.slice(1).map((w) => w.tensor))),
      ).toBeLessThan(1e-4);
      tf.dispose([wa[0]!.tensor, wb[0]!.tensor]);
      const acc = (o: tf.Optimizer) => (o as unknown as { accBeta1: tf.Variable }).accBeta1.data();
      expect((await acc(a.opt))[0]).toBe((await acc(b.opt))[0]);
      // Mixing paths: an autograd continuation from the fused state equals the all-autograd run.
      await a.go(4, { fusedStep: false, resumeFrom: ra.checkpoint });
      await b.go(4, { resumeFrom: rb.checkpoint, fusedStep: false });
      expect(
        maxDiff(await flat(a.energy.trainableVariables), await flat(b.energy.trainableVariables)),
      ).toBeLessThan(4e-4);
      a.dispose();
      b.dispose();
    }
  });

  it('falls back to autograd for terms the kernel does not cover (clipping, other optimizers, custom losses)', async () => {
    const cases: [string, () => ReturnType<typeof run>][] = [
      ['clipNorm', () => run(false, { clipNorm: 1 })],
      ['clipValue', () => run(false, { clipValue: 1 })],
      ['sgd', () => run(false, {}, tf.train.sgd(0.01) as unknown as ReturnType<typeof tf.train.adam>)],
      ['fusedStep: false', () => run(false, { fusedStep: false })],
    ];
    for (const [what, make] of cases) {
      const r = make();
      const c0 = count.calls();
      const res = await r.go(1);
      expect(res.fusedSteps, what).toBe(0);
      expect(count.calls() - c0, what).toBe(0);
      r.dispose();
    }
    // A kernel that does not take the network on this device (NOT_IMPLEMENTED at the first step): autograd.
    const r = run(false);
    count.fail('notImplemented');
    const c0 = count.calls();
    const ni = await r.go(2);
    count.fail(false);
    expect(count.calls() - c0).toBe(1);
    expect(ni.fusedSteps).toBe(0);
    expect(ni.history).toHaveLength(2);
    r.dispose();
    // A subclass with its own computeParts (a term the kernel does not know) and an energy without the hint.
    class Custom extends ContrastiveDivergence {
      protected override computeParts(
        x: tf.Tensor2D,
        key: Parameters<ContrastiveDivergence['computeParts']>[1],
      ) {
        return super.computeParts(x, key);
      }
    }
    const e = new MLPEnergy({ inputDim: 2, widths: [8], seed: 1 });
    const sampler = new LangevinDynamics(e, { stepSize: 0.1 });
    for (const loss of [new Custom(e, { sampler, k: 2 })]) {
      const opt = tf.train.adam(0.01);
      const res = await fit({ loss, optimizer: opt, data: data!, batchSize: 8, steps: 1 });
      expect(res.fusedSteps).toBe(0);
      opt.dispose();
    }
    const hint = e.kernelHint;
    Object.defineProperty(e, 'kernelHint', { value: undefined, configurable: true });
    const opt = tf.train.adam(0.01);
    const res = await fit({
      loss: new ContrastiveDivergence(e, { sampler, k: 2 }),
      optimizer: opt,
      data: data!,
      batchSize: 8,
      steps: 1,
    });
    expect(res.fusedSteps).toBe(0);
    Object.defineProperty(e, 'kernelHint', { value: hint, configurable: true });
    opt.dispose();
    // fit told to train only some of the MLP's weights: the trained variables are not the hint's weights
    const opt2 = tf.train.adam(0.01);
    const some = await fit({
      loss: new ContrastiveDivergence(e, { sampler, k: 2 }),
      optimizer: opt2,
      data: data!,
      batchSize: 8,
      steps: 1,
      variables: e.trainableVariables.slice(0, 2) as tf.Variable[],
    });
    expect(some.fusedSteps).toBe(0);
    opt2.dispose();
    e.dispose();
  });

  it('no leaks on success and when a step throws (kernel failure, data failure); bad fusedStep is an EbmError', async () => {
    const r = run(true);
    await expectNoLeaks(() => r.go(2));
    count.fail('error');
    await expectNoLeaks(async () => {
      await expect(r.go(2)).rejects.toThrow('kernel failure');
    });
    count.fail(false);
    const before = tf.memory().numTensors;
    await expect(
      r.go(3, {
        data: (step: number) => {
          if (step === 1) throw new Error('data failure (test)');
          return tf.tensor2d(normalArray(rngKey(step), [8, 2]), [8, 2]);
        },
      }),
    ).rejects.toThrow('data failure');
    expect(tf.memory().numTensors).toBe(before);
    let err: unknown;
    try {
      await r.go(1, { fusedStep: 'yes' as unknown as boolean });
    } catch (e) {
      err = e;
    }
    expect(isEbmError(err) && err.code === 'INVALID_PARAM' && err.argument === 'fusedStep').toBe(true);
    r.dispose();
  });
});
