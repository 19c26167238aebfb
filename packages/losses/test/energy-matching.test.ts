import {
  BaseEnergy,
  ExactOTCoupling,
  isEbmError,
  medianDistance,
  mmdRbf,
  type RngKey,
  randomNormal,
  randomUniform,
  rngKey,
  splitKey,
} from '@ebm/core';
import { expectNoLeaks, expectNoLeaksSync } from '@ebm/core/testing';
import { eightGaussians, twoMoons } from '@ebm/datasets';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EnergyMatchingLoss, fit, flowWeight, trimmedMean } from '../src/index.js';

/** V(x) = ½·xᵀAx + b·x with trainable A (2×2) and b: ∇V = ½(A + Aᵀ)x + b. */
class Quadratic extends BaseEnergy {
  readonly A = tf.variable(
    tf.tensor2d([
      [1, 0.2],
      [0, 0.5],
    ]),
  );
  readonly b = tf.variable(tf.tensor1d([0.1, -0.3]));
  readonly trainableVariables = [this.A, this.b];
  fail = Number.POSITIVE_INFINITY;
  calls = 0;
  constructor() {
    super({ dim: 2, name: 'Quadratic' });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    if (++this.calls > this.fail) throw new Error('boom');
    return tf.add(
      tf.mul(0.5, tf.sum(tf.mul(tf.matMul(x, this.A), x), 1)),
      tf.sum(tf.mul(x, this.b), 1),
    ) as tf.Tensor1D;
  }
  dispose() {
    tf.dispose([this.A, this.b]);
  }
}

describe('EnergyMatchingLoss', () => {
  it('flow weight, trimmed mean and the clamp follow TorchEBM', () => {
    const w = flowWeight(tf.tensor1d([0, 0.5, 0.8, 0.9, 1]));
    expect(Array.from(w.dataSync())).toEqual([1, 1, 1, 0.5, 0].map((v) => expect.closeTo(v, 5)));
    const v = tf.tensor1d([5, 1, 2, 3, 4, 100, 6, 7, 8, 9]);
    expect(trimmedMean(v, 0.1).dataSync()[0]!).toBeCloseTo(5, 5); // drops 100
    expect(trimmedMean(v, 0.25).dataSync()[0]!).toBeCloseTo(4.5, 5); // drops 100, 9
    expect(trimmedMean(v, 0).dataSync()[0]!).toBeCloseTo(14.5, 5);
    // the gradient is 1/(n − drop) on the kept values and 0 on the dropped ones (a mask, no gather)
    const g = tf.grad((x: tf.Tensor) => trimmedMean(x as tf.Tensor1D, 0.25))(v);
    expect(Array.from(g.dataSync())).toEqual(
      [1, 1, 1, 1, 1, 0, 1, 1, 1, 0].map((k) => expect.closeTo(k / 8, 6)),
    );
    tf.dispose([w, v, g]);
  });

  it('the flow term equals the hand-computed one (independent coupling), gradients included', () => {
    const V = new Quadratic();
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(1), [32, 2]), 0.3), 1)) as tf.Tensor2D;
    const loss = new EnergyMatchingLoss(V, { coupling: 'independent', lambdaCd: 0, sigma: 0.1 });
    const key = rngKey(4);
    const manual = (): tf.Scalar =>
      tf.tidy(() => {
        const [kNoise, kTime, , kXi] = splitKey(key, 5) as RngKey[];
        const x0 = randomNormal(kNoise!, [32, 2]);
        const t = randomUniform(kTime!, [32]) as tf.Tensor1D;
        const tc = tf.reshape(t, [-1, 1]);
        const xt = tf.add(
          tf.add(tf.mul(tc, data), tf.mul(tf.sub(1, tc), x0)),
          tf.mul(0.1, randomNormal(kXi!, [32, 2])),
        );
        const grad = tf.add(tf.matMul(xt, tf.mul(0.5, tf.add(V.A, tf.transpose(V.A)))), V.b);
        const ut = tf.sub(data, x0);
        const perRow = tf.mean(tf.square(tf.add(grad, ut)), 1);
        return tf.mean(tf.mul(flowWeight(t), perRow)) as tf.Scalar;
      });
    const got = tf.variableGrads(() => loss.compute(data, { key, metrics: false }).loss, [V.A, V.b]);
    const want = tf.variableGrads(manual, [V.A, V.b]);
    expect(got.value.dataSync()[0]!).toBeCloseTo(want.value.dataSync()[0]!, 4);
    for (const name of [V.A.name, V.b.name]) {
      const a = got.grads[name]!.dataSync();
      const b = want.grads[name]!.dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 3);
    }
    tf.dispose([got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads), data]);
    V.dispose();
  });

  it("flowRegression: the next call's rows, targets and weights give its flow loss; consume counts the call", () => {
    const V = new Quadratic();
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(1), [32, 2]), 0.3), 1)) as tf.Tensor2D;
    const loss = new EnergyMatchingLoss(V, { coupling: 'independent', warmupSteps: 1, sigma: 0.1 });
    const key = rngKey(4);
    expect(loss.nextCallIsFlowRegression()).toBe(true);
    // Σ_b c_b‖∇V(x_b) + u_b‖² equals compute's flow loss for the same call and key (computed first: a call
    // that is not consumed leaves the loss where it was)
    const reg = loss.flowRegression(data, key);
    const fromRegression = tf.tidy(() => {
      const g = V.gradient(reg.x);
      return tf.sum(tf.mul(reg.rowWeights, tf.sum(tf.square(tf.add(g, reg.targets)), 1))).dataSync()[0]!;
    });
    tf.dispose([reg.x, reg.targets, reg.rowWeights]);
    expect(loss.nextCallIsFlowRegression()).toBe(true);
    const out = loss.compute(data, { key, metrics: false });
    expect(fromRegression).toBeCloseTo(out.loss.dataSync()[0]!, 5);
    tf.dispose(out.loss);
    // compute counted its call: the next is the joint phase (warmupSteps 1), not a regression; consume of the
    // earlier regression does not count it twice
    reg.consume();
    expect(loss.nextCallIsFlowRegression()).toBe(false);
    // a fresh loss: consume counts the call once
    const fresh = new EnergyMatchingLoss(V, { coupling: 'independent', warmupSteps: 1 });
    expectNoLeaksSync(() => {
      const r = fresh.flowRegression(data, key);
      tf.dispose([r.x, r.targets, r.rowWeights]);
      r.consume();
      r.consume();
    });
    expect(fresh.nextCallIsFlowRegression()).toBe(false);
    // energyL2 > 0: the flow phase is not a bare regression
    expect(new EnergyMatchingLoss(V, { energyL2: 0.1 }).nextCallIsFlowRegression()).toBe(false);
    // bad data is an EbmError, nothing left behind
    const bad = tf.zeros([4, 3]) as tf.Tensor2D;
    expectNoLeaksSync(() => {
      try {
        fresh.flowRegression(bad, key);
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    });
    tf.dispose([data, bad]);
    V.dispose();
  });

  it('two phases: flow only during warm-up, then cd = mean V(x⁺) − trimmed mean V(x⁻) clamped below at −c', () => {
    const V = new Quadratic();
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(2), [16, 2]), 0.3), 1)) as tf.Tensor2D;
    const loss = new EnergyMatchingLoss(V, { warmupSteps: 1, nLangevinSteps: 5, cdClamp: 0.02, lambdaCd: 2 });
    const a = loss.compute(data, { key: rngKey(1) });
    expect(a.negatives).toBeUndefined();
    expect(a.metrics.cdGap).toBeUndefined();
    const b = loss.compute(data, { key: rngKey(1) });
    expect(b.negatives?.shape).toEqual([16, 2]);
    const m = Object.fromEntries(
      Object.entries(b.metrics).map(([k, v]) => [k, (v as tf.Tensor).dataSync()[0]!]),
    ) as Record<string, number>;
    expect(m.loss!).toBeCloseTo(m.flowLoss! + Math.max(2 * m.cdGap!, -0.02), 4);
    tf.dispose([
      a.loss,
      b.loss,
      b.negatives,
      ...Object.values(a.metrics),
      ...Object.values(b.metrics),
    ] as tf.Tensor[]);
    expectNoLeaksSync(() => loss.compute(data), { label: 'joint phase' });
    V.dispose();
    data.dispose();
  });

  it("the paper's contrastive term (no trim, no clamp): loss = L_flow + λ(mean V(x⁺) − mean V(x⁻)), x⁻ stop-gradient", () => {
    // The authors' experiments/toy2d: loss = flow + ebm_weight·(model(x_data).mean() − model(x_neg).mean()), x_neg
    // from a detached Langevin chain. The gradient must be ∇θ L_flow + λ(mean ∇θV(x⁺) − mean ∇θV(x⁻)) with x⁻
    // held fixed (no gradient through the chain), the sign lowering V at the data and raising it at the negatives.
    const V = new Quadratic();
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(3), [16, 2]), 0.3), 1)) as tf.Tensor2D;
    const paper = {
      coupling: 'independent',
      nLangevinSteps: 6,
      cdTrimFraction: 0,
      cdClamp: Number.MAX_VALUE,
    } as const;
    const joint = new EnergyMatchingLoss(V, { ...paper, lambdaCd: 2 });
    const flowOnly = new EnergyMatchingLoss(V, { ...paper, lambdaCd: 0 });
    const key = rngKey(9);
    const vars = [V.A, V.b];
    let neg: tf.Tensor2D | undefined;
    const got = tf.variableGrads(() => {
      const r = joint.compute(data, { key, metrics: false });
      neg = tf.keep(r.negatives!);
      return r.loss;
    }, vars);
    const fixedNeg = neg!;
    const want = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const flow = flowOnly.compute(data, { key, metrics: false }).loss;
          const ePos = tf.mean(V.energy(data));
          const eNeg = tf.mean(V.energy(fixedNeg));
          return tf.add(flow, tf.mul(2, tf.sub(ePos, eNeg))) as tf.Scalar;
        }),
      vars,
    );
    expect(got.value.dataSync()[0]!).toBeCloseTo(want.value.dataSync()[0]!, 4);
    for (const v of vars) {
      const a = got.grads[v.name]!.dataSync();
      const b = want.grads[v.name]!.dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 3);
    }
    // Hand check of the contrastive part of ∂/∂b: V = ½xᵀAx + b·x ⇒ ∂V/∂b = x, so λ(mean x⁺ − mean x⁻).
    const flowGrad = tf.variableGrads(() => flowOnly.compute(data, { key, metrics: false }).loss, vars);
    const cdB = tf.tidy(() => tf.sub(got.grads[V.b.name]!, flowGrad.grads[V.b.name]!).dataSync());
    const hand = tf.tidy(() => tf.mul(2, tf.sub(tf.mean(data, 0), tf.mean(fixedNeg, 0))).dataSync());
    for (let i = 0; i < 2; i++) expect(cdB[i]!).toBeCloseTo(hand[i]!, 4);
    tf.dispose([
      got.value,
      want.value,
      flowGrad.value,
      fixedNeg,
      data,
      ...Object.values(got.grads),
      ...Object.values(want.grads),
      ...Object.values(flowGrad.grads),
    ]);
    V.dispose();
  });

  it('energyL2 adds λ_E·mean V(x⁺)² in the flow phase and λ_E·(mean V(x⁺)² + mean V(x⁻)²) in the joint phase', () => {
    const V = new Quadratic();
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(5), [16, 2]), 0.3), 1)) as tf.Tensor2D;
    const opts = { coupling: 'independent', nLangevinSteps: 4, warmupSteps: 1 } as const;
    const plain = new EnergyMatchingLoss(V, opts);
    const reg = new EnergyMatchingLoss(V, { ...opts, energyL2: 0.5 });
    const msq = (x: tf.Tensor2D) => tf.tidy(() => tf.mean(tf.square(V.energy(x))).dataSync()[0]!);
    for (let call = 0; call < 2; call++) {
      const key = rngKey(20 + call);
      const a = plain.compute(data, { key, metrics: false });
      const b = reg.compute(data, { key, metrics: false });
      const extra = call === 0 ? msq(data) : msq(data) + msq(b.negatives!);
      expect(b.loss.dataSync()[0]!).toBeCloseTo(a.loss.dataSync()[0]! + 0.5 * extra, 4);
      tf.dispose([a.loss, b.loss, a.negatives, b.negatives] as tf.Tensor[]);
    }
    data.dispose();
    V.dispose();
  });

  it('source samples: uniform rows of the given tensor (χ² over 4 rows), same stream as N(0, I) otherwise', () => {
    const V = new Quadratic();
    const source = tf.tensor2d([
      [5, 0],
      [0, 5],
      [-5, 0],
      [0, -5],
    ]);
    const loss = new EnergyMatchingLoss(V, { source, coupling: 'independent' });
    const x = loss.drawSource(rngKey(7), 4000, 2);
    const rows = x.arraySync();
    const counts = [0, 0, 0, 0];
    for (const [a, b] of rows) counts[a! > 4 ? 0 : b! > 4 ? 1 : a! < -4 ? 2 : 3]!++;
    // χ² with 3 d.o.f.: P(χ² > 16.27) = 0.001 (the false-fail rate at a fixed seed)
    const chi2 = counts.reduce((s, c) => s + (c - 1000) ** 2 / 1000, 0);
    expect(chi2).toBeLessThan(16.27);
    // without a source: the N(0, I) draw the loss always used (bit-identical stream)
    const plain = new EnergyMatchingLoss(V, { coupling: 'independent' });
    const z = plain.drawSource(rngKey(7), 8, 2);
    const want = randomNormal(rngKey(7), [8, 2]);
    expect(Array.from(z.dataSync())).toEqual(Array.from(want.dataSync()));
    // the noise-started chains start at source rows: one step of Δ → 0 leaves them there
    const still = new EnergyMatchingLoss(V, {
      source,
      noiseFraction: 1,
      nLangevinSteps: 1,
      langevinDt: 1e-12,
    });
    const data = tf.zeros([8, 2]) as tf.Tensor2D;
    const neg = still.negatives(data, rngKey(3));
    for (const [a, b] of neg.arraySync()) expect(Math.abs(a!) + Math.abs(b!)).toBeCloseTo(5, 4);
    tf.dispose([x, z, want, neg, data, source]);
    expect(() => loss.drawSource(rngKey(1), 2, 2)).toThrow(/disposed/);
    V.dispose();
  });

  it("flowWeighting 'joint': phase 1 regresses the whole path (no w(t)), the joint phase weights it", () => {
    const V = new Quadratic();
    const data = tf.tidy(() => tf.add(tf.mul(randomNormal(rngKey(1), [32, 2]), 0.3), 1)) as tf.Tensor2D;
    const opts = { coupling: 'independent', lambdaCd: 0, sigma: 0.1 } as const;
    const key = rngKey(4);
    const value = (l: EnergyMatchingLoss) => {
      const r = l.compute(data, { key, metrics: false });
      const v = r.loss.dataSync()[0]!;
      r.loss.dispose();
      return v;
    };
    const always = value(new EnergyMatchingLoss(V, opts));
    const joint = value(new EnergyMatchingLoss(V, { ...opts, flowWeighting: 'joint' }));
    // the unweighted mean by hand: the same draws without w(t)
    const manual = tf.tidy(() => {
      const [kNoise, kTime, , kXi] = splitKey(key, 5) as RngKey[];
      const x0 = randomNormal(kNoise!, [32, 2]);
      const tc = tf.reshape(randomUniform(kTime!, [32]), [-1, 1]);
      const xt = tf.add(
        tf.add(tf.mul(tc, data), tf.mul(tf.sub(1, tc), x0)),
        tf.mul(0.1, randomNormal(kXi!, [32, 2])),
      );
      const grad = tf.add(tf.matMul(xt, tf.mul(0.5, tf.add(V.A, tf.transpose(V.A)))), V.b);
      return tf.mean(tf.square(tf.add(grad, tf.sub(data, x0)))).dataSync()[0]!;
    });
    expect(joint).toBeCloseTo(manual, 4);
    expect(joint).not.toBeCloseTo(always, 4);
    data.dispose();
    V.dispose();
  });

  it('is leak-free when the energy throws mid-run (inside the Langevin chains); bad options raise EbmErrors', async () => {
    const V = new Quadratic();
    const data = tf.tidy(() => randomNormal(rngKey(3), [16, 2])) as tf.Tensor2D;
    const loss = new EnergyMatchingLoss(V, { nLangevinSteps: 4, coupling: 'sinkhorn' });
    const before = tf.memory().numTensors;
    V.fail = 0;
    expect(() => loss.compute(data)).toThrow('boom');
    V.fail = Number.POSITIVE_INFINITY;
    expect(tf.memory().numTensors).toBe(before);
    const optimizer = tf.train.sgd(1e-3);
    await expectNoLeaks(() => fit({ loss, optimizer, data, batchSize: 8, steps: 2, seed: 1 }).then(() => 0));
    const bad = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    bad(() => new EnergyMatchingLoss(V, { lambda_cd: 1 } as never));
    bad(() => new EnergyMatchingLoss(V, { noiseFraction: 1.5 }));
    bad(() => new EnergyMatchingLoss(V, { tauStar: 1 }));
    bad(() => new EnergyMatchingLoss(V, { flowWeighting: 'never' as never }));
    bad(() => new EnergyMatchingLoss(V, { source: tf.zeros([4, 3]) as tf.Tensor2D }));
    bad(() => new EnergyMatchingLoss(V, { nLangevinSteps: 0 }));
    bad(() => new EnergyMatchingLoss(V, { coupling: 'emd' as never }));
    bad(() => loss.setLambdaCd(-1));
    V.dispose();
    data.dispose();
  });

  // Smoke-sized two-phase training (full run: the curriculum example `energy-matching-2d`): an MLP energy, 250
  // flow-only steps (exact OT by the auction, batch 128), then 10 joint steps (15-step tempered chains), sampled by the paper's
  // tempered Langevin from noise (100 steps: descent until τ* = 0.8, then heating to ε_max = 0.15). Margin:
  // MMD² to held-out data below 30% of the noise baseline's.
  it.each([
    ['eight gaussians', (n: number, seed: number) => eightGaussians({ nSamples: n, seed })],
    ['two moons', (n: number, seed: number) => twoMoons({ nSamples: n, seed })],
  ] as const)(
    'trains on %s: tempered-Langevin samples far below the noise baseline',
    async (name, make) => {
      const train = make(4096, 1).toTensor();
      const held = make(400, 2);
      const V = new MLPEnergy({ inputDim: 2, widths: [64, 64], seed: 3 });
      const loss = new EnergyMatchingLoss(V, {
        nLangevinSteps: 15,
        warmupSteps: 250,
        coupling: new ExactOTCoupling({ method: 'auction' }),
      });
      const optimizer = tf.train.adam(3e-3);
      await fit({ loss, optimizer, data: train, batchSize: 128, steps: 260, seed: 5 });
      const noise = tf.randomNormal([400, 2], 0, 1, 'float32', 4) as tf.Tensor2D;
      const x = loss.sample(noise, rngKey(1), 100);
      const bandwidth = medianDistance(held.data, held.data, 2);
      const mmd = mmdRbf(await x.data(), held.data, 2, { bandwidth });
      const mmdNoise = mmdRbf(await noise.data(), held.data, 2, { bandwidth });
      const floor = mmdRbf(make(400, 7).data, held.data, 2, { bandwidth });
      console.log(
        `[energy matching ${name}] MMD² ${mmd.toFixed(5)} noise ${mmdNoise.toFixed(5)} data-vs-data ${floor.toFixed(5)}`,
      );
      expect(mmd).toBeLessThan(0.3 * mmdNoise);
      tf.dispose([train, noise, x]);
      V.dispose();
    },
    300_000,
  );
});
