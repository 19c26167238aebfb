import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { isEbmError } from '../errors.js';
import { normalArray, rngKey, uniformArray } from '../rng.js';
import { expectNoLeaks, expectNoLeaksSync } from '../testing/leaks.js';
import {
  assignmentCost,
  auctionAssignment,
  type Coupling,
  ExactOTCoupling,
  GreedyCoupling,
  getCoupling,
  greedyAssignment,
  hungarianAssignment,
  IndependentCoupling,
  ReflowCoupling,
  resolveCoupling,
  SinkhornCoupling,
  sinkhornPlan,
  squaredEuclideanCost,
  UnbalancedSinkhornCoupling,
} from './index.js';

/** Minimum of Σ C[i, σ(i)] over all n! permutations (Heap's algorithm). */
function bruteForce(cost: ArrayLike<number>, n: number): number {
  const p = Array.from({ length: n }, (_, i) => i);
  const c = new Array<number>(n).fill(0);
  let best = assignmentCost(cost, n, p);
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const k = i % 2 === 0 ? 0 : c[i]!;
      [p[k], p[i]] = [p[i]!, p[k]!];
      best = Math.min(best, assignmentCost(cost, n, p));
      c[i]!++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
  return best;
}

/** Noise and a two-moons-like target (n points each), host-generated from a seed. */
function noiseAndMoons(n: number, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const z = normalArray(rngKey(seed), [n, 2]);
  const u = uniformArray(rngKey(seed + 1), [n]);
  const e = normalArray(rngKey(seed + 2), [n, 2], 0, 0.05);
  const m = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = Math.PI * u[i]!;
    const upper = i % 2 === 0;
    m[2 * i] = (upper ? Math.cos(a) : 1 - Math.cos(a)) + e[2 * i]!;
    m[2 * i + 1] = (upper ? Math.sin(a) : 0.5 - Math.sin(a)) + e[2 * i + 1]!;
  }
  return [tf.tensor2d(z, [n, 2]), tf.tensor2d(m, [n, 2])];
}

/** Mean ‖x₀ᵢ − x₁ᵢ‖² of a coupling's pairs (and disposes the result). */
function transportCost(c: Coupling, x0: tf.Tensor2D, x1: tf.Tensor2D, seed = 1): number {
  const r = c.couple(x0, x1, rngKey(seed));
  const v = tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(r.x0, r.x1)), 1)).dataSync()[0]!);
  tf.dispose([r.x0, r.x1, r.weights]);
  return v;
}

describe('assignment solvers', () => {
  it('Hungarian equals the brute-force optimum on every n ≤ 8 (random costs, all permutations)', () => {
    for (let n = 1; n <= 8; n++) {
      for (let trial = 0; trial < (n === 8 ? 2 : 5); trial++) {
        const cost = uniformArray(rngKey(100 * n + trial), [n * n]);
        const best = bruteForce(cost, n);
        const h = hungarianAssignment(cost, n);
        expect(new Set(h).size).toBe(n);
        expect(assignmentCost(cost, n, h)).toBeCloseTo(best, 5);
        // the auction is ε-optimal: within n·tol of the optimum
        const a = auctionAssignment(cost, n, { tol: 1e-6 });
        expect(new Set(a.assignment).size).toBe(n);
        expect(assignmentCost(cost, n, a.assignment)).toBeLessThanOrEqual(best + n * 1e-6 + 1e-9);
        expect(assignmentCost(cost, n, greedyAssignment(cost, n))).toBeGreaterThanOrEqual(best - 1e-9);
      }
    }
  });

  it('ExactOTCoupling pairs tensors at the brute-force optimal cost (n ≤ 8), with both solvers', () => {
    for (const n of [3, 6, 8]) {
      const [x0, x1] = noiseAndMoons(n, n);
      const c = squaredEuclideanCost(x0, x1, false);
      const best = bruteForce(c.dataSync(), n);
      for (const method of ['hungarian', 'auction'] as const) {
        const got = transportCost(new ExactOTCoupling({ method, tol: 1e-7 }), x0, x1) * n;
        expect(got).toBeCloseTo(best, 4);
      }
      tf.dispose([x0, x1, c]);
    }
  });

  it('bad solver input raises EbmErrors', () => {
    for (const f of [
      () => hungarianAssignment([1, 2, 3], 2),
      () => hungarianAssignment([1, Number.NaN, 3, 4], 2),
      () => auctionAssignment([1, 2, 3, 4], 2, { tol: 0 }),
    ]) {
      expect(f).toThrow();
      try {
        f();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    }
  });
});

describe('couplings', () => {
  it('on noise → two moons (n = 256) exact OT beats greedy, Sinkhorn and independent pairing', () => {
    const [x0, x1] = noiseAndMoons(256, 7);
    const cost = {
      independent: transportCost(new IndependentCoupling(), x0, x1),
      greedy: transportCost(new GreedyCoupling(), x0, x1),
      sinkhorn: transportCost(new SinkhornCoupling({ reg: 0.01 }), x0, x1),
      exact: transportCost(new ExactOTCoupling(), x0, x1),
    };
    expect(cost.exact).toBeLessThan(cost.greedy);
    expect(cost.exact).toBeLessThan(cost.sinkhorn);
    expect(cost.greedy).toBeLessThan(cost.independent);
    expect(cost.exact).toBeLessThan(0.5 * cost.independent);
    tf.dispose([x0, x1]);
  });

  it("Sinkhorn's plan meets both uniform marginals; the pairing is seeded; no leaks", () => {
    const [x0, x1] = noiseAndMoons(64, 3);
    const s = new SinkhornCoupling({ reg: 0.05, nIters: 200 });
    const p = s.plan(x0, x1);
    const rows = tf.sum(p, 1).dataSync();
    const cols = tf.sum(p, 0).dataSync();
    for (const v of rows) expect(Math.abs(v - 1 / 64)).toBeLessThan(1e-3 / 64);
    for (const v of cols) expect(Math.abs(v - 1 / 64)).toBeLessThan(1e-4 / 64);
    const a = s.couple(x0, x1, rngKey(5));
    const b = s.couple(x0, x1, rngKey(5));
    expect(Array.from(a.x1.dataSync())).toEqual(Array.from(b.x1.dataSync()));
    expect(a.weights).toBeUndefined();
    // the device path (float32 tensors, used on GPU backends) computes the same plan as the host path
    const c = squaredEuclideanCost(x0, x1);
    const pd = sinkhornPlan(c, { reg: 0.05, nIters: 200 });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(pd, p))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-6);
    tf.dispose([p, pd, c, a.x0, a.x1, b.x0, b.x1]);
    for (const c of [s, new ExactOTCoupling(), new GreedyCoupling(), new UnbalancedSinkhornCoupling()]) {
      expectNoLeaksSync(() => c.couple(x0, x1, rngKey(2)), { label: c.name });
    }
    tf.dispose([x0, x1]);
  });

  it('unbalanced Sinkhorn returns row weights averaging 1, down-weighting an outlier', async () => {
    const [x0, x1] = noiseAndMoons(64, 11);
    const far = tf.tidy(() => tf.concat([tf.slice(x0, [0, 0], [63, 2]), tf.tensor2d([[12, 12]])]));
    const r = new UnbalancedSinkhornCoupling({ reg: 0.05, regMarginal: 0.1 }).couple(far as tf.Tensor2D, x1);
    const w = r.weights!.dataSync();
    expect(w.length).toBe(64);
    expect(Array.from(w).reduce((s, v) => s + v, 0) / 64).toBeCloseTo(1, 5);
    expect(w[63]!).toBeLessThan(Math.min(...Array.from(w).slice(0, 63)));
    tf.dispose([far, r.x0, r.x1, r.weights]);
    await expectNoLeaks(() => new UnbalancedSinkhornCoupling().coupleAsync(x0, x1));
    tf.dispose([x0, x1]);
  });

  it('coupleAsync gives the same pairing as couple; reflow maps x0 through a flow', async () => {
    const [x0, x1] = noiseAndMoons(32, 13);
    const ot = new ExactOTCoupling();
    const s = ot.couple(x0, x1);
    const a = await ot.coupleAsync(x0, x1);
    expect(Array.from(a.x1.dataSync())).toEqual(Array.from(s.x1.dataSync()));
    const reflow = new ReflowCoupling((x) => tf.add(x, 1) as tf.Tensor2D);
    const r = reflow.couple(x0, x1);
    const want = tf.add(x0, 1);
    expect(Array.from(r.x1.dataSync())).toEqual(Array.from(want.dataSync()));
    const sampler = {
      sampleSync: (o: { x0: tf.Tensor2D }) => ({
        samples: tf.mul(o.x0, 2) as tf.Tensor2D,
        extra: tf.scalar(1),
      }),
    };
    expectNoLeaksSync(() => new ReflowCoupling(sampler).couple(x0, x1));
    tf.dispose([s.x0, s.x1, a.x0, a.x1, r.x0, r.x1, want, x0, x1]);
  });

  it('registry names and bad options raise EbmErrors', () => {
    expect(getCoupling('ot')).toBeInstanceOf(ExactOTCoupling);
    expect(getCoupling('unbalanced_sinkhorn')).toBeInstanceOf(UnbalancedSinkhornCoupling);
    expect(resolveCoupling(undefined)).toBeInstanceOf(IndependentCoupling);
    const bad = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    bad(() => getCoupling('wasserstein'));
    bad(() => resolveCoupling(42));
    bad(() => new SinkhornCoupling({ reg: -1 }));
    bad(() => new SinkhornCoupling({ n_iters: 5 } as never));
    bad(() => new ExactOTCoupling({ method: 'simplex' as never }));
    bad(() => new UnbalancedSinkhornCoupling({ regMarginal: 0 }));
    bad(() => new ReflowCoupling(3 as never));
    const a = tf.zeros([4, 2]) as tf.Tensor2D;
    const b = tf.zeros([5, 2]) as tf.Tensor2D;
    bad(() => new ExactOTCoupling().couple(a, b));
    bad(() => new IndependentCoupling().couple(a, tf.zeros([4, 3]) as tf.Tensor2D));
    tf.dispose([a, b]);
  });
});
