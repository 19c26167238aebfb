/**
 * `fit`'s fused flow step on WebGPU (lavapipe on CPU-only machines): Energy Matching's flow phase on an MLPEnergy
 * with tfjs's Adam goes through the `train.mlpGradientRegressionAdam` kernel (one call per flow step) and gives
 * the weights, metrics and optimizer state of the autograd step (tfjs autograd over the fused flow term, then
 * tfjs's Adam); the joint phase takes autograd after the Adam state went back to the optimizer; checkpoint /
 * resume and the divergence guard's roll-back work mid-run; nothing leaks, on success or when a step throws.
 * Tiny network and batch: lavapipe is slow.
 * Tolerances: the fused gradient sums run in another order than the per-weight programs (float32, ~1e-6
 * relative); Adam divides by √v, so each step moves a weight by ~lr = 0.01 times that relative error: weights
 * |Δ| < 2e-4 after a few steps, metrics within 1e-3 relative, Adam moments |Δ| < 1e-4.
 */
import { isEbmError, MLP_GRADIENT_REGRESSION_ADAM_KERNEL, normalArray, rngKey } from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { EnergyMatchingLoss, type EnergyMatchingOptions, type FitOptions, fit } from '../src/index.js';
import { flowOnlyRollback } from './flow-rollback.js';
import { kernelCounter } from './kernel-counter.js';

const { available } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'losses fused flow-step webgpu tests',
);

const count = kernelCounter(MLP_GRADIENT_REGRESSION_ADAM_KERNEL, available);
afterAll(() => count.restore());

const data = available ? tf.tensor2d(normalArray(rngKey(1), [48, 2]), [48, 2]) : undefined;
afterAll(() => data?.dispose());

/** A flow-phase Energy Matching run (exact-OT pairs through fit's pre-pass; λ = 2 after `warmupSteps`). */
function make(opts: EnergyMatchingOptions = {}, extra: Partial<FitOptions> = {}) {
  const energy = new MLPEnergy({ inputDim: 2, widths: [16, 16], activation: 'silu', seed: 4 });
  const loss = new EnergyMatchingLoss(energy, {
    lambdaCd: 2,
    warmupSteps: 100,
    nLangevinSteps: 2,
    flowWeighting: 'joint',
    ...opts,
  });
  const optimizer = tf.train.adam(0.01);
  const go = (steps: number, more: Partial<FitOptions> = {}) =>
    fit({ loss, optimizer, data: data!, batchSize: 16, steps, seed: 5, ...extra, ...more });
  const dispose = () => {
    optimizer.dispose();
    loss.dispose?.();
    energy.dispose();
  };
  return { energy, loss, optimizer, go, dispose };
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

/** Weights, Adam slots (names without tfjs's variable counters), iteration count and accBeta1/2 of a run. */
async function state(r: ReturnType<typeof make>) {
  const ws = await r.optimizer.getWeights();
  const out = {
    weights: await flat(r.energy.trainableVariables),
    names: ws.map((w) => w.name.replace(/_\d+\//, '/')),
    iterations: (await ws[0]!.tensor.data())[0]!,
    slots: await flat(ws.slice(1).map((w) => w.tensor)),
    acc: [
      ...(await (r.optimizer as unknown as { accBeta1: tf.Variable }).accBeta1.data()),
      ...(await (r.optimizer as unknown as { accBeta2: tf.Variable }).accBeta2.data()),
    ],
  };
  tf.dispose(ws[0]!.tensor);
  return out;
}

async function expectSameState(a: ReturnType<typeof make>, b: ReturnType<typeof make>, tol = 2e-4) {
  const sa = await state(a);
  const sb = await state(b);
  expect(maxDiff(sa.weights, sb.weights), 'weights').toBeLessThan(tol);
  expect(sa.names).toEqual(sb.names);
  expect(sa.iterations).toBe(sb.iterations);
  expect(maxDiff(sa.slots, sb.slots), 'Adam moments').toBeLessThan(tol / 2);
  expect(sa.acc).toEqual(sb.acc);
}

describe.skipIf(!available)('fit with the fused train.mlpGradientRegressionAdam step on webgpu', () => {
  it('flow phase: one kernel call per step; weights, metrics and Adam state equal the autograd run', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const a = make();
    const b = make({}, { fusedStep: false });
    const c0 = count.calls();
    const ra = await a.go(3);
    expect(count.calls() - c0).toBe(3);
    expect(ra.fusedSteps).toBe(3);
    const rb = await b.go(3);
    expect(count.calls() - c0).toBe(3);
    expect(rb.fusedSteps).toBe(0);
    for (let t = 0; t < 3; t++) {
      const ma = ra.history[t]!;
      const mb = rb.history[t]!;
      for (const k of ['loss', 'gradNorm'] as const)
        expect(Math.abs(ma[k] - mb[k]), `${k} step ${t}`).toBeLessThan(1e-3 * (1 + Math.abs(mb[k])));
      expect(Object.keys(ma.metrics).sort()).toEqual(Object.keys(mb.metrics).sort());
      expect(ma.metrics.flowLoss).toBe(ma.loss);
    }
    // Output bias: no gradient, so neither path gives it an Adam slot or moves it.
    expect((await state(a)).names.length - 1).toBe(2 * (a.energy.trainableVariables.length - 1));
    await expectSameState(a, b);
    a.dispose();
    b.dispose();
  }, 600_000);

  it('flow phase then joint phase mid-run (autograd for the joint steps), then resume from a mid-run checkpoint', async () => {
    const opts = { warmupSteps: 2 };
    const a = make(opts);
    const b = make(opts, { fusedStep: false });
    const c0 = count.calls();
    const ra = await a.go(4, { checkpointEvery: 2 });
    // Steps 0, 1 fused (flow), 2, 3 autograd (joint).
    expect(count.calls() - c0).toBe(2);
    expect(ra.fusedSteps).toBe(2);
    const rb = await b.go(4, { checkpointEvery: 2 });
    expect(ra.history.map((m) => Object.keys(m.metrics).sort())).toEqual(
      rb.history.map((m) => Object.keys(m.metrics).sort()),
    );
    await expectSameState(a, b, 4e-4);
    a.dispose();
    b.dispose();
    // Resume: 2 fused steps, then a fresh fit from that checkpoint, equals 4 straight fused steps.
    const straight = make({}, { checkpointEvery: 2 });
    await straight.go(4);
    const split = make({}, { checkpointEvery: 2 });
    const first = await split.go(2);
    expect(first.checkpoint.step).toBe(2);
    const c1 = count.calls();
    const second = await split.go(4, { resumeFrom: first.checkpoint });
    expect(count.calls() - c1).toBe(2);
    expect(second.fusedSteps).toBe(2);
    await expectSameState(split, straight, 1e-6);
    straight.dispose();
    split.dispose();
  }, 600_000);

  it('the divergence guard rejects a fused step and rolls back exactly as the autograd run does', async () => {
    // Reference: the autograd run whose loss call 3 is NaN (test/flow-rollback.ts: a subclass overriding
    // compute, which the fused step does not take).
    const ref = await flowOnlyRollback(data!, () => {});
    expect(ref.res.fusedSteps).toBe(0);
    // Fused: the same configuration, the kernel's 4th call (step 3) returns a NaN loss.
    const energy = new MLPEnergy({ inputDim: 2, widths: [8, 8], activation: 'silu', seed: 4 });
    const loss = new EnergyMatchingLoss(energy, { coupling: 'independent', lambdaCd: 2, warmupSteps: 100 });
    const optimizer = tf.train.adam(0.01);
    const c0 = count.calls();
    count.nanAfter(3);
    const res = await fit({
      loss,
      optimizer,
      data: data!,
      batchSize: 16,
      steps: 5,
      seed: 5,
      checkpointEvery: 2,
    });
    expect(count.calls() - c0).toBe(7); // steps 0, 1, 2, 3 (rejected), 2, 3, 4
    expect(res.rollbacks).toEqual(ref.res.rollbacks);
    expect(res.fusedSteps).toBe(6); // committed: 0, 1, 2, then 2, 3, 4 after the roll-back
    expect(
      maxDiff(await flat(energy.trainableVariables), await flat(ref.energy.trainableVariables)),
    ).toBeLessThan(2e-4);
    const wa = await optimizer.getWeights();
    const wb = await ref.optimizer.getWeights();
    expect((await wa[0]!.tensor.data())[0]).toBe((await wb[0]!.tensor.data())[0]);
    expect(
      maxDiff(await flat(wa.slice(1).map((w) => w.tensor)), await flat(wb.slice(1).map((w) => w.tensor))),
    ).toBeLessThan(1e-4);
    tf.dispose([wa[0]!.tensor, wb[0]!.tensor]);
    ref.dispose();
    optimizer.dispose();
    energy.dispose();
  }, 600_000);

  it('no leaks on success and when a step throws; NOT_IMPLEMENTED falls back to autograd', async () => {
    const r = make();
    await expectNoLeaks(() => r.go(2));
    count.fail('error');
    try {
      await expectNoLeaks(async () => {
        await expect(r.go(2)).rejects.toThrow('kernel failure');
      });
    } finally {
      count.fail(false);
    }
    // The energy throws in the joint phase (autograd) after fused flow steps: the Adam state went back, no leak.
    const j = make({ warmupSteps: 1 });
    await j.go(1);
    const orig = j.energy.energy.bind(j.energy);
    j.energy.energy = () => {
      throw new Error('energy failure (test)');
    };
    await expectNoLeaks(async () => {
      await expect(j.go(3)).rejects.toThrow('energy failure');
    });
    j.energy.energy = orig;
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
    // A kernel that does not take the network on this device: autograd from the first step on.
    const n = make();
    count.fail('notImplemented');
    let ni: Awaited<ReturnType<typeof n.go>>;
    try {
      ni = await n.go(2);
    } finally {
      count.fail(false);
    }
    expect(ni.fusedSteps).toBe(0);
    expect(ni.history).toHaveLength(2);
    const ref = make({}, { fusedStep: false });
    await ref.go(2);
    await expectSameState(n, ref, 1e-6);
    let err: unknown;
    try {
      await r.go(1, { fusedStep: 'yes' as unknown as boolean });
    } catch (e) {
      err = e;
    }
    expect(isEbmError(err) && err.code === 'INVALID_PARAM').toBe(true);
    for (const x of [r, j, n, ref]) x.dispose();
  }, 600_000);
});
