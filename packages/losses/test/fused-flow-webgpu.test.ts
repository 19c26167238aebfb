/**
 * Energy Matching's flow term through the fused `train.mlpGradientRegression` kernel on WebGPU (lavapipe on
 * CPU-only machines): for an MLPEnergy the term is one kernel call inside a `tf.customGrad` op, and its value and
 * every weight gradient equal tfjs's double back-propagation; `fit` (flow-only phase) gives the weights of the
 * autograd run; energies the kernel does not take fall back to autograd; nothing leaks, on success or when the
 * kernel throws. Tiny networks: lavapipe is slow.
 * Tolerances: float32 sums in another order (~1e-6 relative observed on the gradients): loss and gradients
 * |Δ| ≤ 1e-5·max|ref| + 1e-3·|ref| per entry; Adam moves each weight by ~lr = 0.01 per step times that relative
 * error, so weights |Δ| < 2e-4 after 3 steps and the loss history within 1e-3 relative.
 */
import { MLP_GRADIENT_REGRESSION_KERNEL, normalArray, rngKey } from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { fusedFlowTerm } from '../src/fused-flow-term.js';
import { EnergyMatchingLoss, type EnergyMatchingOptions, fit } from '../src/index.js';
import { flowOnlyRollback } from './flow-rollback.js';
import { kernelCounter } from './kernel-counter.js';

// Per-test limit 600 s: lavapipe compiles every WGSL program on the CPU; on a loaded 2-core machine the first
// test (five networks, the contrastive case's Langevin programs) has taken 120 s (3.4 s when idle).
const { available } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'losses fused flow-term webgpu tests',
);

const count = kernelCounter(MLP_GRADIENT_REGRESSION_KERNEL, available);
afterAll(() => count.restore());

const data = available ? tf.tensor2d(normalArray(rngKey(1), [48, 2]), [48, 2]) : undefined;
afterAll(() => data?.dispose());

type Act = 'silu' | 'tanh' | 'elu' | 'leakyRelu';

function closeTo(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) - (1e-5 * scale + 1e-3 * Math.abs(b[i]!)));
  expect(worst, `${what}: worst excess error`).toBeLessThanOrEqual(0);
}

/** Loss value and gradients (by variable position) of one `compute` call. */
async function valueAndGrads(loss: EnergyMatchingLoss, energy: MLPEnergy, batch: tf.Tensor2D) {
  const vars = energy.trainableVariables;
  const { value, grads } = tf.variableGrads(
    () => loss.compute(batch, { key: rngKey(9), metrics: false }).loss,
    vars,
  );
  const out = {
    value: (await value.data())[0]!,
    grads: await Promise.all(vars.map(async (v) => (grads[v.name] ? await grads[v.name]!.data() : null))),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe.skipIf(!available)(
  'EnergyMatchingLoss flow term through train.mlpGradientRegression on webgpu',
  () => {
    it('value and every weight gradient equal autograd (silu, tanh, elu, leakyRelu; with the contrastive term)', async () => {
      expect(tf.getBackend()).toBe('webgpu');
      const batch = tf.slice(data!, [0, 0], [16, 2]);
      const cases: [Act, number[], EnergyMatchingOptions][] = [
        ['silu', [16, 16], { lambdaCd: 0 }],
        ['tanh', [8, 8], { lambdaCd: 0, interpolant: 'cosine' }],
        ['elu', [8, 6], { lambdaCd: 0, sigma: 0 }],
        ['leakyRelu', [8, 8], { lambdaCd: 0 }],
        ['silu', [8, 8], { lambdaCd: 2, nLangevinSteps: 2 }],
      ];
      for (const [act, widths, opts] of cases) {
        const energy = new MLPEnergy({ inputDim: 2, widths, activation: act, seed: 3 });
        // The exact-OT coupling reads the cost matrix synchronously, which webgpu cannot: independent pairs here.
        const loss = new EnergyMatchingLoss(energy, { coupling: 'independent', ...opts });
        const c0 = count.calls();
        const fused = await valueAndGrads(loss, energy, batch);
        expect(count.calls() - c0).toBe(1);
        const ref = await count.without(() => valueAndGrads(loss, energy, batch));
        expect(count.calls() - c0).toBe(1);
        closeTo([fused.value], [ref.value], `${act} loss`);
        ref.grads.forEach((g, k) => {
          // The output bias does not move ∇ₓV: no gradient in either path (without the contrastive term).
          expect(fused.grads[k] === null, `${act} gradient ${k} presence`).toBe(g === null);
          if (g !== null) closeTo(fused.grads[k]!, g, `${act} gradient ${k}`);
        });
        loss.dispose?.();
        energy.dispose();
      }
      batch.dispose();
    }, 600_000);

    it('coupling weights: c_b = w_b·w(t_b)/(B·D) gives mean_b w_b·w(t_b)·mean_d (∇ₓV + u)², gradients included', async () => {
      const energy = new MLPEnergy({ inputDim: 2, widths: [8, 8], activation: 'silu', seed: 5 });
      const x = tf.slice(data!, [0, 0], [12, 2]) as tf.Tensor2D;
      const u = tf.slice(data!, [12, 0], [12, 2]) as tf.Tensor2D;
      const fw = tf.tensor1d(Array.from({ length: 12 }, (_, i) => (i % 4) / 3));
      const pw = tf.tensor1d(Array.from({ length: 12 }, (_, i) => 0.5 + i / 12));
      const vars = energy.trainableVariables;
      const grads = async (f: () => tf.Scalar) => {
        const { value, grads: g } = tf.variableGrads(f, vars);
        const out = [
          await value.data(),
          ...(await Promise.all(vars.slice(0, -1).map((v) => g[v.name]!.data()))),
        ];
        tf.dispose([value, ...Object.values(g)]);
        return out;
      };
      const c0 = count.calls();
      const got = await grads(() => fusedFlowTerm(energy, x, u, fw, pw)!);
      expect(count.calls() - c0).toBe(1);
      const want = await grads(() => {
        const g = energy.gradient(x, { checkFinite: false });
        return tf.mean(tf.mul(pw, tf.mul(fw, tf.mean(tf.square(tf.add(g, u)), 1)))) as tf.Scalar;
      });
      got.forEach((a, k) => closeTo(a, want[k]!, `part ${k}`));
      tf.dispose([x, u, fw, pw]);
      energy.dispose();
    }, 600_000);

    it('fit, flow-only phase: one kernel call per step, weights and loss history equal the autograd run, no leaks', async () => {
      const make = () => {
        const energy = new MLPEnergy({ inputDim: 2, widths: [16, 16], activation: 'silu', seed: 4 });
        const loss = new EnergyMatchingLoss(energy, {
          coupling: 'independent',
          lambdaCd: 2,
          warmupSteps: 100,
        });
        const optimizer = tf.train.adam(0.01);
        // fusedStep: false — the flow term through this kernel inside autograd, then tfjs's Adam (the fused
        // flow + Adam step is fused-flow-step-webgpu.test.ts').
        const go = () =>
          fit({ loss, optimizer, data: data!, batchSize: 16, steps: 3, seed: 5, fusedStep: false });
        return { energy, loss, optimizer, go };
      };
      const a = make();
      const b = make();
      const c0 = count.calls();
      const ra = await a.go();
      expect(count.calls() - c0).toBe(3);
      const rb = await count.without(() => b.go());
      expect(count.calls() - c0).toBe(3);
      const wa = a.energy.trainableVariables;
      const wb = b.energy.trainableVariables;
      for (let k = 0; k < wa.length; k++) {
        const da = await wa[k]!.data();
        const db = await wb[k]!.data();
        let worst = 0;
        for (let i = 0; i < da.length; i++) worst = Math.max(worst, Math.abs(da[i]! - db[i]!));
        expect(worst, `weight ${k}`).toBeLessThan(2e-4);
      }
      for (let t = 0; t < 3; t++) {
        const la = ra.history[t]!.loss;
        const lb = rb.history[t]!.loss;
        expect(Math.abs(la - lb), `loss step ${t}`).toBeLessThan(1e-3 * (1 + Math.abs(lb)));
      }
      // Leak-free fused steps (the optimizer's slots exist already; expectNoLeaks warms up with one fit).
      await expectNoLeaks(() => a.go().then(() => 0));
      for (const r of [a, b]) {
        r.optimizer.dispose();
        r.energy.dispose();
      }
    }, 600_000);

    it('fit, flow-only phase: a rejected step rolls back exactly (no gradient, so no Adam slot, for the output bias)', async () => {
      // The fused term has no gradient for V's output bias, as autograd: Adam holds no slot for it. A NaN loss at
      // call 3 is rejected and fit restores the step-2 checkpoint (test/fit-rollback-no-gradient.test.ts on cpu).
      const c0 = count.calls();
      let atRollback: number[][] = [];
      const run = await flowOnlyRollback(data!, async ({ energy }) => {
        atRollback = await Promise.all(
          energy.trainableVariables.map(async (v) => Array.from(await v.data())),
        );
      });
      const { res, saved } = run;
      const vars = run.energy.trainableVariables;
      expect(count.calls() - c0).toBe(7); // steps 0, 1, 2, 3 (rejected), 2, 3, 4
      expect(res.rollbacks).toEqual([{ step: 3, restoredStep: 2, reason: 'loss', attempt: 1, incident: 1 }]);
      const c2 = saved.get(2)!;
      expect(c2.optimizer!.length - 1).toBe(2 * (vars.length - 1));
      expect(atRollback).toEqual(c2.weights.map((w) => w.data));
      run.dispose();
    }, 600_000);

    it('falls back to autograd (no hint, NOT_IMPLEMENTED); a failing kernel throws from fit without leaking', async () => {
      const batch = tf.slice(data!, [0, 0], [16, 2]);
      // Spectral normalisation: no 'mlp' kernel hint, so autograd (the kernel is not called).
      const sn = new MLPEnergy({ inputDim: 2, widths: [8], activation: 'silu', spectralNorm: true, seed: 2 });
      const c0 = count.calls();
      const snOut = await valueAndGrads(
        new EnergyMatchingLoss(sn, { lambdaCd: 0, coupling: 'independent' }),
        sn,
        batch,
      );
      expect(count.calls()).toBe(c0);
      expect(Number.isFinite(snOut.value)).toBe(true);
      sn.dispose();
      // NOT_IMPLEMENTED from the kernel: autograd for this energy from then on (one attempt).
      const energy = new MLPEnergy({ inputDim: 2, widths: [8, 8], activation: 'tanh', seed: 6 });
      const loss = new EnergyMatchingLoss(energy, { lambdaCd: 0, coupling: 'independent' });
      const ref = await count.without(() => valueAndGrads(loss, energy, batch));
      count.fail('notImplemented');
      try {
        await expectNoLeaks(async () => {
          const got = await valueAndGrads(loss, energy, batch);
          expect(got.value).toBe(ref.value);
          return 0;
        });
        await valueAndGrads(loss, energy, batch);
      } finally {
        count.fail(false);
      }
      expect(count.calls() - c0).toBe(1);
      energy.dispose();
      // A kernel that throws: fit rejects and leaves no tensors behind.
      const e2 = new MLPEnergy({ inputDim: 2, widths: [8], activation: 'silu', seed: 8 });
      const l2 = new EnergyMatchingLoss(e2, { lambdaCd: 0, coupling: 'independent' });
      const optimizer = tf.train.adam(0.01);
      count.fail('error');
      try {
        await expectNoLeaks(async () => {
          await expect(
            fit({ loss: l2, optimizer, data: data!, batchSize: 16, steps: 2, seed: 1, fusedStep: false }),
          ).rejects.toThrow('kernel failure (test)');
          return 0;
        });
      } finally {
        count.fail(false);
      }
      optimizer.dispose();
      e2.dispose();
      batch.dispose();
    }, 600_000);
  },
);
