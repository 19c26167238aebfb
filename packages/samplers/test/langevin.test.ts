import {
  ConstantScheduler,
  EbmError,
  foldIn,
  LinearScheduler,
  normalArray,
  rngKey,
  splitKey,
  TemperatureScheduler,
} from '@ebm/core';
import {
  expectMean,
  expectVariance,
  expectWithinStandardError,
  testSeed,
  zCritical,
} from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GradientDescentSampler, LangevinDynamics, NesterovSampler } from '../src/index.js';
import { column, eig2, TestDoubleWell, torchEbmGaussian } from './helpers.js';

describe('LangevinDynamics update', () => {
  const g = torchEbmGaussian();
  const x0 = [
    [0.3, -0.2],
    [2, 1],
    [-1, 0.5],
  ];
  const grad = (x: number[]) => {
    const d = [x[0]! - 1, x[1]! + 1];
    return [g.prec[0]![0]! * d[0]! + g.prec[0]![1]! * d[1]!, g.prec[1]![0]! * d[0]! + g.prec[1]![1]! * d[1]!];
  };

  it('Euler–Maruyama step is x − h∇E + σ√(2h)ξ with ξ from the step key', () => {
    const h = 0.05;
    const sigma = 0.7;
    const s = new LangevinDynamics(g, { stepSize: h, noiseScale: sigma });
    const key = rngKey(11);
    const st = s.init(tf.tensor2d(x0));
    const { state } = s.step(st, key);
    const xi = normalArray(key, [3, 2]);
    const got = state.x.arraySync();
    x0.forEach((row, i) => {
      const gr = grad(row);
      for (let j = 0; j < 2; j++) {
        const want = row[j]! - h * gr[j]! + sigma * Math.sqrt(2 * h) * xi[i * 2 + j]!;
        expect(got[i]![j]!).toBeCloseTo(want, 5);
      }
    });
    expect(state.step).toBe(1);
    s.disposeState(st);
    s.disposeState(state);
  });

  it('Heun step uses the averaged drift (h/2)(k1 + k2) and the same noise', () => {
    const h = 0.1;
    const s = new LangevinDynamics(g, { stepSize: h, integrator: 'heun' });
    const key = rngKey(12);
    const st = s.init(tf.tensor2d(x0));
    const { state } = s.step(st, key);
    const xi = normalArray(key, [3, 2]);
    const got = state.x.arraySync();
    x0.forEach((row, i) => {
      const g1 = grad(row);
      const pred = [row[0]! - h * g1[0]!, row[1]! - h * g1[1]!];
      const g2 = grad(pred);
      for (let j = 0; j < 2; j++) {
        const want = row[j]! - (h / 2) * (g1[j]! + g2[j]!) + Math.sqrt(2 * h) * xi[i * 2 + j]!;
        expect(got[i]![j]!).toBeCloseTo(want, 5);
      }
    });
    s.disposeState(st);
    s.disposeState(state);
  });

  it('noise scale 0 from a scheduler (TemperatureScheduler before τ*) is a deterministic gradient step', () => {
    const h = 0.05;
    // ε(t) = 0 for t < τ* = 0.5 over 4 steps: steps 0 and 1 are noiseless, step 3 has σ = √(ε_max·0.5).
    const temp = new TemperatureScheduler(0.2, { tauStar: 0.5, nSteps: 4 });
    expect(temp.valueAt(0)).toBe(0);
    const s = new LangevinDynamics(g, { stepSize: h, noiseScale: temp });
    const st = s.init(tf.tensor2d(x0));
    const { state } = s.step(st, rngKey(13));
    const got = state.x.arraySync();
    x0.forEach((row, i) => {
      const gr = grad(row);
      for (let j = 0; j < 2; j++) expect(got[i]![j]!).toBeCloseTo(row[j]! - h * gr[j]!, 5);
    });
    // a whole run through the τ* switch: the first steps are deterministic, the later ones noisy
    const a = s.sampleSync({ x0: tf.tensor2d(x0), nSteps: 2, seed: 3 });
    const b = s.sampleSync({ x0: tf.tensor2d(x0), nSteps: 2, seed: 4 });
    expect(a.samples.arraySync()).toEqual(b.samples.arraySync());
    const c = s.sampleSync({ x0: tf.tensor2d(x0), nSteps: 4, seed: 3 });
    const d = s.sampleSync({ x0: tf.tensor2d(x0), nSteps: 4, seed: 4 });
    expect(c.samples.arraySync()).not.toEqual(d.samples.arraySync());
    // a constant σ = 0 is plain gradient descent, on the step loop and the whole-chain path alike
    const gd = new GradientDescentSampler(g, { stepSize: h });
    const zero = new LangevinDynamics(g, { stepSize: h, noiseScale: 0 });
    const e = zero.sampleSync({ x0: tf.tensor2d(x0), nSteps: 5, seed: 5 });
    const f = gd.sampleSync({ x0: tf.tensor2d(x0), nSteps: 5, seed: 5 });
    const ea = e.samples.arraySync();
    f.samples.arraySync().forEach((row, i) => {
      for (let j = 0; j < 2; j++) expect(ea[i]![j]!).toBeCloseTo(row[j]!, 5);
    });
    for (const r of [a, b, c, d, e, f]) r.samples.dispose();
    s.disposeState(st);
    s.disposeState(state);
  });

  it('a negative noise scale is an EbmError, as a number and from a scheduler at the step', () => {
    expect(() => new LangevinDynamics(g, { noiseScale: -0.1 })).toThrow(EbmError);
    const s = new LangevinDynamics(g, { noiseScale: new ConstantScheduler(-0.1) });
    const st = s.init(tf.tensor2d(x0));
    try {
      s.step(st, rngKey(1));
      expect.unreachable('expected an EbmError for noiseScale');
    } catch (e) {
      expect(e).toBeInstanceOf(EbmError);
      expect((e as EbmError).argument).toBe('noiseScale');
    }
    s.disposeState(st);
  });

  it('clamps every coordinate after each step', () => {
    const s = new LangevinDynamics(g, { stepSize: 0.5, noiseScale: 3, clamp: [-0.25, 0.25] });
    const r = s.sampleSync({ nSamples: 50, nSteps: 5, seed: 1 });
    const a = r.samples.dataSync();
    expect(Math.max(...a)).toBeLessThanOrEqual(0.25);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-0.25);
    expect(Math.max(...a)).toBe(0.25); // the clamp is actually hit with this much noise
    r.samples.dispose();
  });

  it('reads scheduled step sizes at the step index (iteration i uses the value after i scheduler steps)', () => {
    // Gradient descent on E = ½‖x‖² multiplies x by (1 − η_t) at step t.
    const sched = new LinearScheduler(0.1, 0.5, 4);
    const gd = new GradientDescentSampler(g, { stepSize: sched });
    const st0 = gd.init(tf.tensor2d([[1, -1]])); // at μ: stays put
    const r = gd.sampleSync({ x0: tf.tensor2d([[3, -1]]), nSteps: 6 });
    // Along e₁ from μ the gradient is P·(2, 0): not an eigenvector, so simulate on the host.
    let x = [3, -1];
    for (let t = 0; t < 6; t++) {
      const eta = sched.valueAt(t);
      const gr = grad(x);
      x = [x[0]! - eta * gr[0]!, x[1]! - eta * gr[1]!];
    }
    const got = r.samples.arraySync()[0]!;
    expect(got[0]).toBeCloseTo(x[0]!, 5);
    expect(got[1]).toBeCloseTo(x[1]!, 5);
    gd.disposeState(st0);
    r.samples.dispose();
  });

  it('rejects bad options with EbmError naming the argument', () => {
    const bad: [() => unknown, string][] = [
      [() => new LangevinDynamics(g, { stepSize: -1 }), 'stepSize'],
      [() => new LangevinDynamics(g, { noiseScale: Number.NaN }), 'noiseScale'],
      [() => new LangevinDynamics(g, { clamp: [1, 0] }), 'clamp'],
      [() => new LangevinDynamics(g, { integrator: 'rk4' as never }), 'integrator'],
      [() => new LangevinDynamics(null as never), 'energy'],
      [() => new NesterovSampler(g, { momentum: 1 }), 'momentum'],
      [() => new GradientDescentSampler(g, { stepSize: 0 }), 'stepSize'],
    ];
    for (const [f, arg] of bad) {
      try {
        f();
        expect.unreachable(`expected an EbmError for ${arg}`);
      } catch (e) {
        expect(e).toBeInstanceOf(EbmError);
        expect((e as EbmError).argument).toBe(arg);
      }
    }
  });
});

describe('GradientDescentSampler and NesterovSampler', () => {
  const g = torchEbmGaussian();
  it('gradient descent converges to the minimum μ', () => {
    const r = new GradientDescentSampler(g, { stepSize: 0.3 }).sampleSync({
      nSamples: 4,
      nSteps: 200,
      seed: 3,
    });
    for (const row of r.samples.arraySync()) {
      expect(row[0]).toBeCloseTo(1, 4);
      expect(row[1]).toBeCloseTo(-1, 4);
    }
    r.samples.dispose();
  });

  it('Nesterov follows v ← μv − η∇E(x + μv), x ← x + v', () => {
    const eta = 0.1;
    const mu = 0.8;
    const s = new NesterovSampler(g, { stepSize: eta, momentum: mu });
    const r = s.sampleSync({ x0: tf.tensor2d([[3, 2]]), nSteps: 5 });
    let x = [3, 2];
    let v = [0, 0];
    const P = g.prec;
    for (let t = 0; t < 5; t++) {
      const look = [x[0]! + mu * v[0]!, x[1]! + mu * v[1]!];
      const d = [look[0]! - 1, look[1]! + 1];
      const gr = [P[0]![0]! * d[0]! + P[0]![1]! * d[1]!, P[1]![0]! * d[0]! + P[1]![1]! * d[1]!];
      v = [mu * v[0]! - eta * gr[0]!, mu * v[1]! - eta * gr[1]!];
      x = [x[0]! + v[0]!, x[1]! + v[1]!];
    }
    const got = r.samples.arraySync()[0]!;
    expect(got[0]).toBeCloseTo(x[0]!, 5);
    expect(got[1]).toBeCloseTo(x[1]!, 5);
    r.samples.dispose();
    const r2 = s.sampleSync({ nSamples: 3, nSteps: 300 });
    for (const row of r2.samples.arraySync()) {
      expect(row[0]).toBeCloseTo(1, 3);
      expect(row[1]).toBeCloseTo(-1, 3);
    }
    r2.samples.dispose();
  });
});

describe('LangevinDynamics statistics', () => {
  it("matches ULA's exact stationary covariance (not the target's) on a correlated Gaussian", () => {
    const seed = testSeed('ula-stationary-covariance');
    const g = torchEbmGaussian();
    const h = 0.4;
    const sigma = 1;
    const n = 5000;
    const [kStart, kRun] = splitKey(rngKey(seed), 2) as [
      ReturnType<typeof rngKey>,
      ReturnType<typeof rngKey>,
    ];
    const x0 = g.sample(n, kStart);
    // 60 steps: the covariance relaxes by (1 − hλ_min)^(2·60) ≈ 1e-5 of its initial offset.
    const r = new LangevinDynamics(g, { stepSize: h, noiseScale: sigma }).sampleSync({
      x0,
      nSteps: 60,
      seed: kRun,
    });
    x0.dispose();
    const a = r.samples.dataSync();
    r.samples.dispose();
    const { values, vectors } = eig2(g.prec);
    const proj = (i: number) => {
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++)
        out[k] = vectors[i]![0]! * (a[2 * k]! - 1) + vectors[i]![1]! * (a[2 * k + 1]! + 1);
      return out;
    };
    const alpha = 1e-4 / 5; // five tests below share the 1e-4 false-fail rate
    const ulaVar = values.map((l) => (2 * h * sigma * sigma) / (1 - (1 - h * l) ** 2));
    const u0 = proj(0);
    const u1 = proj(1);
    expectMean(column(a, n, 2, 0), 1, { falseFailRate: alpha, label: 'mean x0', seed });
    expectMean(column(a, n, 2, 1), -1, { falseFailRate: alpha, label: 'mean x1', seed });
    expectVariance(u0, ulaVar[0]!, { falseFailRate: alpha, label: 'ULA var, eigendirection 0', seed });
    expectVariance(u1, ulaVar[1]!, { falseFailRate: alpha, label: 'ULA var, eigendirection 1', seed });
    const cross = Float64Array.from(u0, (v, k) => v * u1[k]!);
    expectMean(cross, 0, { falseFailRate: alpha, label: 'ULA covariance across eigendirections', seed });
    // Power: the target's own variance along the stiff direction is rejected by the same test.
    // Stiff direction λ = values[0] ≈ 1.26: ULA variance ≈ 1.06 against the target's 1/λ ≈ 0.79 (≈ 12 se).
    const s2 = u0.reduce((s, v) => s + v * v, 0) / (n - 1);
    const se = s2 * Math.sqrt(2 / n);
    expect(Math.abs(s2 - 1 / values[0]!) / se).toBeGreaterThan(zCritical(alpha));
  });

  it('Heun matches its own exact stationary variances: 2h/(1 − (1 − hλ + h²λ²/2)²) per eigendirection', () => {
    const seed = testSeed('heun-stationary-covariance');
    const g = torchEbmGaussian();
    const h = 0.4;
    const n = 5000;
    const [kStart, kRun] = splitKey(rngKey(seed), 2) as [
      ReturnType<typeof rngKey>,
      ReturnType<typeof rngKey>,
    ];
    const x0 = g.sample(n, kStart);
    const r = new LangevinDynamics(g, { stepSize: h, integrator: 'heun' }).sampleSync({
      x0,
      nSteps: 60,
      seed: kRun,
    });
    x0.dispose();
    const a = r.samples.dataSync();
    r.samples.dispose();
    const { values, vectors } = eig2(g.prec);
    const alpha = 1e-4 / 2;
    values.forEach((l, i) => {
      const u = Float64Array.from(
        { length: n },
        (_, k) => vectors[i]![0]! * (a[2 * k]! - 1) + vectors[i]![1]! * (a[2 * k + 1]! + 1),
      );
      const m = 1 - h * l + (h * l) ** 2 / 2;
      expectVariance(u, (2 * h) / (1 - m * m), {
        falseFailRate: alpha,
        label: `Heun var, eigendirection ${i}`,
        seed,
      });
    });
  });

  it('visits both double-well modes with equal weight (chains started in one well)', () => {
    const seed = testSeed('langevin-double-well');
    const dw = new TestDoubleWell(1, 1, 1);
    const B = 64;
    const r = new LangevinDynamics(dw, { stepSize: 0.01 }).sampleSync({
      x0: tf.fill([B, 1], -1) as tf.Tensor2D,
      burnIn: 1000,
      nSteps: 2000,
      thin: 10,
      seed,
      trajectory: true,
    });
    const t = r.trajectory!.x!;
    const [, nk] = t.shape as [number, number, number];
    const a = t.dataSync();
    tf.dispose([t, r.samples]);
    const frac = new Float64Array(B);
    for (let c = 0; c < B; c++) {
      let pos = 0;
      for (let k = 0; k < nk; k++) if (a[c * nk + k]! > 0) pos++;
      frac[c] = pos / nk;
    }
    const mean = frac.reduce((s, v) => s + v, 0) / B;
    const sd = Math.sqrt(frac.reduce((s, v) => s + (v - mean) ** 2, 0) / (B - 1));
    expectWithinStandardError(mean, 0.5, sd / Math.sqrt(B), { label: 'double-well right-mode weight', seed });
    // Power: chains started at −1 did cross.
    expect(frac.filter((f) => f > 0).length).toBeGreaterThan(B / 2);
  });
});

describe('foldIn keys', () => {
  it('sampleSync uses foldIn(runKey, step) per step', () => {
    const g = torchEbmGaussian();
    const s = new LangevinDynamics(g, { stepSize: 0.1 });
    const x0 = tf.tensor2d([[0, 0]]);
    const r = s.sampleSync({ x0, nSteps: 1, seed: 9 });
    const st = s.init(x0);
    const { state } = s.step(st, foldIn(rngKey(9), 0));
    expect(Array.from(r.samples.dataSync())).toEqual(Array.from(state.x.dataSync()));
    tf.dispose([x0, r.samples]);
    s.disposeState(st);
    s.disposeState(state);
  });
});
