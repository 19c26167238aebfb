/**
 * Training with an MLP energy whose `kernelHint` sends the negatives through the fused `chain.mlp` kernel (cpu):
 * the kernel reads the live variables, so after every optimizer step the chain uses the new weights; the negatives
 * are constants for the gradient (nothing flows through the sampler); the fused path gives the composite path's
 * gradient to float32 rounding; no tensor leaks on success or on error.
 */
import { chainKernelName, EbmError, normalArray, rngKey, runKernel } from '@ebm/core';
import { countKernelCalls, expectNoLeaks, testSeed, withoutKernelHint } from '@ebm/core/testing';
import { twoMoons } from '@ebm/datasets';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ContrastiveDivergence, fit, PersistentContrastiveDivergence } from '../src/index.js';

const seed = testSeed('mlp-fused');
const data = tf.tensor2d(Float32Array.from(twoMoons({ nSamples: 64, seed }).data), [64, 2]) as tf.Tensor2D;
const probe = tf.tensor2d(normalArray(rngKey(seed + 1), [32, 2]), [32, 2]);
afterAll(() => tf.dispose([data, probe]));

function mlp(s = 3): MLPEnergy {
  return new MLPEnergy({ inputDim: 2, widths: [16, 16], activation: 'silu', seed: s });
}

/** Max |x − h∇E(x) (fused chain.mlp, one noiseless step) − (x − h∇E(x)) (autograd)| over the probe points. */
function fusedVsAutograd(e: MLPEnergy): number {
  return tf.tidy(() => {
    const fused = runKernel(chainKernelName('mlp'), {
      method: 'langevin',
      x0: probe,
      nSteps: 1,
      key: rngKey(0),
      params: e.kernelHint!.params,
      settings: { stepSize: 0.1, noiseScale: 0 },
    });
    const auto = tf.sub(probe, tf.mul(e.gradient(probe), 0.1));
    return tf.max(tf.abs(tf.sub(fused, auto))).dataSync()[0]!;
  });
}

/**
 * CD-10 / PCD-10 with Langevin h = 0.1 and noise scale σ. With σ = 1e-6 the negatives are all but deterministic, so the fused
 * and composite paths can be compared value for value (with noise they draw from one law on different Philox
 * streams until whole chains and step loops share one: the samplers' tests compare them by KS).
 */
function cd(e: MLPEnergy, persistent = false, noiseScale = 1) {
  const sampler = new LangevinDynamics(e, { stepSize: 0.1, noiseScale });
  return persistent
    ? new PersistentContrastiveDivergence(e, { sampler, k: 10, buffer: { capacity: 256 } })
    : new ContrastiveDivergence(e, { sampler, k: 10 });
}

/** The loss's gradient with respect to the energy's variables, and its negatives. */
function lossGrads(loss: ContrastiveDivergence, e: MLPEnergy, key = rngKey(7)) {
  let negatives: tf.Tensor2D | undefined;
  const { grads, value } = tf.variableGrads(() => {
    const out = loss.compute(data, { key, metrics: false });
    negatives = tf.keep(out.negatives!);
    return out.loss;
  }, e.trainableVariables);
  value.dispose();
  return { grads: e.trainableVariables.map((v) => grads[v.name]!), negatives: negatives! };
}

function maxRelDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let worst = 0;
  a.forEach((t, i) => {
    const x = t.dataSync();
    const y = b[i]!.dataSync();
    let scale = 1e-3;
    for (const v of y) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!) / scale);
  });
  return worst;
}

describe('CD / PCD with the fused chain.mlp negatives (cpu)', () => {
  it('the negatives are constants: the gradient is mean ∇θE(x⁺) − mean ∇θE(x⁻) with x⁻ held fixed', () => {
    const e = mlp();
    const loss = cd(e);
    const { grads, negatives } = lossGrads(loss, e);
    const want = tf.variableGrads(
      () =>
        tf.sub(
          tf.mean(e.energy(data, { checkFinite: false })),
          tf.mean(e.energy(negatives, { checkFinite: false })),
        ) as tf.Scalar,
      e.trainableVariables,
    );
    want.value.dispose();
    expect(
      maxRelDiff(
        grads,
        e.trainableVariables.map((v) => want.grads[v.name]!),
      ),
    ).toBeLessThan(1e-6);
    tf.dispose([...grads, negatives, ...Object.values(want.grads)]);
    e.dispose();
  });

  it('fused and composite (step loop) paths give the same negatives and gradient to float32 rounding (σ = 1e-6)', () => {
    const e = mlp();
    const loss = cd(e, false, 1e-6);
    const fused = lossGrads(loss, e);
    const comp = withoutKernelHint(e, () => lossGrads(loss, e)); // the samplers' autograd step loop
    expect(maxRelDiff([fused.negatives], [comp.negatives])).toBeLessThan(1e-4);
    expect(maxRelDiff(fused.grads, comp.grads)).toBeLessThan(1e-3);
    tf.dispose([...fused.grads, ...comp.grads, fused.negatives, comp.negatives]);
    e.dispose();
  });

  for (const persistent of [false, true]) {
    const name = persistent ? 'PCD-10' : 'CD-10';
    it(`${name} fit: every step's chain uses the current weights; the run matches the composite run (σ = 1e-6)`, async () => {
      const runs: { weights: Float32Array[]; losses: number[] }[] = [];
      for (const fused of [true, false]) {
        const e = mlp(5);
        const loss = cd(e, persistent, 1e-6);
        const opt = tf.train.sgd(0.01);
        const mismatch: number[] = [];
        const run = () =>
          fit({
            loss,
            optimizer: opt,
            data,
            batchSize: 32,
            steps: 6,
            seed: 1,
            onStep: () => {
              if (fused) mismatch.push(fusedVsAutograd(e));
            },
          });
        // Count the sampler's k = 10 chains (not the one-step probes of fusedVsAutograd).
        const [r, calls] = await countKernelCalls(
          chainKernelName('mlp'),
          'cpu',
          () => (fused ? run() : withoutKernelHint(e, run)),
          { where: (inputs) => inputs.nSteps === 10 },
        );
        expect(calls).toBe(fused ? 6 : 0);
        if (fused) {
          expect(mismatch).toHaveLength(6);
          for (const m of mismatch) expect(m).toBeLessThan(1e-5);
        }
        runs.push({
          weights: e.trainableVariables.map((v) => v.dataSync() as Float32Array),
          losses: r.history.map((h) => h.loss),
        });
        loss.dispose?.();
        opt.dispose();
        e.dispose();
      }
      const [f, c] = runs as [(typeof runs)[0], (typeof runs)[0]];
      for (const l of f.losses) expect(Number.isFinite(l)).toBe(true);
      f.losses.forEach((l, i) => expect(Math.abs(l - c.losses[i]!)).toBeLessThan(1e-3));
      f.weights.forEach((w, i) => {
        for (let j = 0; j < w.length; j++) expect(Math.abs(w[j]! - c.weights[i]![j]!)).toBeLessThan(1e-4);
      });
    });
  }

  it('no tensor leaks: CD and PCD fit steps, and a sampler run whose fused chain throws', async () => {
    for (const persistent of [false, true]) {
      const e = mlp();
      const loss = cd(e, persistent);
      const opt = tf.train.sgd(0.01);
      // warm-up fills the optimizer's and the replay buffer's state; the measured run must add nothing.
      await expectNoLeaks(async () => {
        await fit({ loss, optimizer: opt, data, batchSize: 32, steps: 2, seed: 2 });
      });
      loss.dispose?.();
      opt.dispose();
      e.dispose();
    }
    const e = mlp();
    const bad = new MLPEnergy({ inputDim: 2, widths: [8] });
    // A hint whose weights do not fit the sizes: chain.mlp throws INVALID_PARAM inside sample().
    Object.defineProperty(e, 'kernelHint', {
      value: { kind: 'mlp', params: { ...e.kernelHint!.params, weights: bad.kernelHint!.params.weights } },
      configurable: true,
    });
    const sampler = new LangevinDynamics(e, { stepSize: 0.1 });
    await expectNoLeaks(async () => {
      const err = await sampler.sample({ x0: probe, nSteps: 5, seed: 1 }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(EbmError);
      expect((err as EbmError).code).toBe('INVALID_PARAM');
    });
    bad.dispose();
    e.dispose();
  });
});
