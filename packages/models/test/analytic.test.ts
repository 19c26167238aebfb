import { type EnergyFunction, foldIn, normalArray, normalCdf, rngKey } from '@ebm/core';
import {
  expectEbmError,
  expectKsOneSample,
  expectMean,
  expectNoLeaks,
  expectVariance,
  testSeed,
} from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Ackley,
  Banana,
  DoubleWell,
  Funnel,
  Gaussian,
  GaussianMixture,
  Harmonic,
  ManyWell,
  Rastrigin,
  Rosenbrock,
} from '../src/index.js';
import { column, gradientRelativeError, project, trapezoidCdf } from './helpers.js';

const created: { dispose(): void }[] = [];
function keep<T extends { dispose(): void }>(e: T): T {
  created.push(e);
  return e;
}
afterAll(() => {
  for (const e of created) e.dispose();
});

function energyAt(e: EnergyFunction, rows: number[][]): number[] {
  const x = tf.tensor2d(rows);
  const out = e.energy(x);
  const v = Array.from(out.dataSync());
  x.dispose();
  out.dispose();
  return v;
}

function gradAt(e: EnergyFunction, rows: number[][]): number[][] {
  const x = tf.tensor2d(rows);
  const out = e.gradient(x);
  const v = out.arraySync();
  x.dispose();
  out.dispose();
  return v;
}

const cases: { name: string; make: () => EnergyFunction; dim: number; scale: number; shift?: number }[] = [
  {
    name: 'Gaussian',
    make: () =>
      keep(
        new Gaussian({
          mean: [1, -1, 0.5],
          covariance: [
            [2, 0.5, 0.1],
            [0.5, 1, -0.3],
            [0.1, -0.3, 0.7],
          ],
        }),
      ),
    dim: 3,
    scale: 2,
  },
  { name: 'DoubleWell', make: () => keep(new DoubleWell({ barrierHeight: 2, b: 1 })), dim: 5, scale: 1.5 },
  { name: 'Harmonic', make: () => keep(new Harmonic({ k: 3 })), dim: 4, scale: 2 },
  { name: 'Rosenbrock', make: () => keep(new Rosenbrock()), dim: 4, scale: 1.5 },
  { name: 'Ackley', make: () => keep(new Ackley()), dim: 3, scale: 2 },
  { name: 'Rastrigin', make: () => keep(new Rastrigin()), dim: 3, scale: 2 },
  {
    name: 'GaussianMixture',
    make: () =>
      keep(
        new GaussianMixture({
          weights: [0.2, 0.5, 0.3],
          means: [
            [-2, 0],
            [2, 1],
            [0, -2],
          ],
          covariances: [
            [
              [1, 0.3],
              [0.3, 0.5],
            ],
            [
              [0.5, 0],
              [0, 0.5],
            ],
            [
              [0.8, -0.2],
              [-0.2, 1.2],
            ],
          ],
        }),
      ),
    dim: 2,
    scale: 2.5,
  },
  { name: 'Banana', make: () => keep(new Banana({ dim: 3 })), dim: 3, scale: 3 },
  { name: 'Funnel', make: () => keep(new Funnel({ dim: 5 })), dim: 5, scale: 1.5 },
  { name: 'ManyWell', make: () => keep(new ManyWell({ dim: 6 })), dim: 6, scale: 2 },
];

describe('analytic gradients equal tf.grad of the energy', () => {
  for (const c of cases) {
    it(`${c.name}: relative error < 1e-4 at 64 random points`, () => {
      const e = c.make();
      const key = rngKey(testSeed(`grad-${c.name}`));
      const x = tf.tensor2d(normalArray(key, [64, c.dim], 0, c.scale), [64, c.dim]);
      const err = gradientRelativeError(e, x);
      x.dispose();
      expect(err).toBeLessThan(1e-4);
    });

    it(`${c.name}: energy, gradient and energyAndGradient leak nothing and agree`, async () => {
      const e = c.make();
      const x = tf.tensor2d(normalArray(rngKey(7), [16, c.dim], 0, c.scale), [16, c.dim]);
      await expectNoLeaks(() => e.energy(x), { label: `${c.name}.energy` });
      await expectNoLeaks(() => e.gradient(x), { label: `${c.name}.gradient` });
      const both = await expectNoLeaks(() => e.energyAndGradient(x), { keepOutputs: true });
      const e1 = e.energy(x);
      const g1 = e.gradient(x);
      expect(Array.from(both.energy.dataSync())).toEqual(Array.from(e1.dataSync()));
      expect(Array.from(both.gradient.dataSync())).toEqual(Array.from(g1.dataSync()));
      expect(both.energy.shape).toEqual([16]);
      expect(both.gradient.shape).toEqual([16, c.dim]);
      tf.dispose([both.energy, both.gradient, e1, g1, x]);
    });

    it(`${c.name}: declares a kernelHint and rejects bad input`, () => {
      const e = c.make();
      expect(typeof e.kernelHint?.kind).toBe('string');
      expect(JSON.parse(JSON.stringify(e.kernelHint))).toEqual(e.kernelHint);
      const x1 = tf.tensor1d(new Array(c.dim).fill(0));
      expectEbmError(() => e.energy(x1 as unknown as tf.Tensor2D), 'SHAPE_MISMATCH');
      const xi = tf.zeros([2, c.dim], 'int32') as tf.Tensor2D;
      expectEbmError(() => e.gradient(xi), 'INVALID_DTYPE');
      const xn = tf.fill([2, c.dim], Number.NaN) as tf.Tensor2D;
      expectEbmError(() => e.energy(xn), 'NON_FINITE');
      if (e.dim !== undefined) {
        const xw = tf.zeros([2, e.dim + 1]) as tf.Tensor2D;
        expectEbmError(() => e.energy(xw), 'SHAPE_MISMATCH');
        xw.dispose();
      }
      tf.dispose([x1, xi, xn]);
    });
  }
});

describe('known values and minima (TorchEBM test list)', () => {
  it('Gaussian: 0 at the mean, ½Pᵢᵢ one unit away, gradient 0 at the mean', () => {
    const g = keep(
      new Gaussian({
        mean: [1, 2],
        covariance: [
          [2, 0],
          [0, 0.5],
        ],
      }),
    );
    const [e0, e1, e2] = energyAt(g, [
      [1, 2],
      [2, 2],
      [1, 3],
    ]);
    expect(e0).toBe(0);
    expect(e1).toBeCloseTo(0.25, 6);
    expect(e2).toBeCloseTo(1, 6);
    expect(gradAt(g, [[1, 2]])).toEqual([[0, 0]]);
    expect(g.precision[0]![0]).toBeCloseTo(0.5, 14);
    expect(g.precision[1]![1]).toBeCloseTo(2, 14);
    expect(g.precision[0]![1]).toBe(0);
    expect(g.logNormalizer).toBeCloseTo(Math.log(2 * Math.PI) + 0.5 * Math.log(1), 12);
  });

  it('Gaussian: default covariance is the identity; precision from Cholesky inverts Σ', () => {
    const cov = [
      [4, 2, 0.6],
      [2, 3, 0.4],
      [0.6, 0.4, 1],
    ];
    const g = keep(new Gaussian({ mean: [0, 0, 0], covariance: cov }));
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += cov[i]![k]! * g.precision[k]![j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    const id = keep(new Gaussian({ mean: [0, 0] }));
    expect(id.covariance).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('DoubleWell: 0 at every ±b corner, h·D·b⁴ at the origin, 2^D modes', () => {
    const dw = keep(new DoubleWell());
    expect(
      energyAt(dw, [
        [1, -1],
        [-1, -1],
        [0, 0],
      ]),
    ).toEqual([0, 0, 4]);
    expect(dw.modes(2)).toEqual([
      [-1, -1],
      [-1, 1],
      [1, -1],
      [1, 1],
    ]);
    expect(
      gradAt(dw, [
        [1, -1],
        [0.5, 2],
      ]),
    ).toEqual([
      [0, -0],
      [4 * 2 * 0.5 * (0.25 - 1), 4 * 2 * 2 * 3],
    ]);
    expect(dw.barrier).toBe(2);
  });

  it('Harmonic: 0 at the origin; E(x) = ½k‖x‖²', () => {
    const h = keep(new Harmonic({ k: 2 }));
    expect(
      energyAt(h, [
        [0, 0, 0],
        [1, 2, 3],
      ]),
    ).toEqual([0, 14]);
    expect(h.logNormalizer(3)).toBeCloseTo(1.5 * Math.log(Math.PI), 12);
  });

  it('Rosenbrock: 0 at (1, …, 1), 1 at the origin (D=2), D ≥ 2 enforced', () => {
    const r = keep(new Rosenbrock());
    expect(energyAt(r, [[1, 1, 1, 1]])).toEqual([0]);
    expect(energyAt(r, [[0, 0]])).toEqual([1]);
    expect(energyAt(r, [[-1, 1, 0]])[0]).toBeCloseTo(4 + 0 + 0 + 100, 4);
    expect(r.minimum(3)).toEqual([1, 1, 1]);
    expect(gradAt(r, [[1, 1, 1]])).toEqual([[0, 0, 0]]);
    const x = tf.zeros([3, 1]) as tf.Tensor2D;
    expectEbmError(() => r.energy(x), 'SHAPE_MISMATCH');
    x.dispose();
    expectEbmError(() => new Rosenbrock({ dim: 1 }), 'INVALID_PARAM');
    expectEbmError(() => new Rosenbrock({ a: 2 }).minimum(2), 'NOT_IMPLEMENTED');
  });

  it('Ackley: 0 at the origin with a finite (zero) gradient there', () => {
    const a = keep(new Ackley());
    expect(Math.abs(energyAt(a, [[0, 0, 0]])[0]!)).toBeLessThan(1e-5);
    expect(gradAt(a, [[0, 0, 0]])).toEqual([[0, 0, 0]]);
    expect(energyAt(a, [[1, 1]])[0]).toBeCloseTo(-20 * Math.exp(-0.2) - Math.E + 20 + Math.E, 4);
  });

  it('Rastrigin: 0 at the origin, D at the unit corner (integers)', () => {
    const r = keep(new Rastrigin());
    expect(energyAt(r, [[0, 0, 0]])).toEqual([0]);
    expect(energyAt(r, [[1, 1]])[0]).toBeCloseTo(2, 4);
    expect(energyAt(r, [[0.5]])[0]).toBeCloseTo(10 + 0.25 + 10, 4);
  });

  it('GaussianMixture: energy equals −log Σ wₖN(x; μₖ, Σₖ) computed in float64', () => {
    const m = keep(
      new GaussianMixture({
        weights: [1, 3],
        means: [
          [0, 0],
          [3, 0],
        ],
        covariances: [
          [
            [1, 0],
            [0, 1],
          ],
          [
            [2, 0],
            [0, 0.5],
          ],
        ],
      }),
    );
    expect(m.weights).toEqual([0.25, 0.75]);
    const pts = [
      [0.5, -0.2],
      [2.5, 0.3],
      [10, 10],
    ];
    const got = energyAt(m, pts);
    pts.forEach(([x, y], i) => {
      const p1 = Math.exp(-0.5 * (x! ** 2 + y! ** 2)) / (2 * Math.PI);
      const p2 = Math.exp(-0.5 * ((x! - 3) ** 2 / 2 + y! ** 2 / 0.5)) / (2 * Math.PI * Math.sqrt(1));
      const ref = -Math.log(0.25 * p1 + 0.75 * p2);
      expect(Math.abs(got[i]! - ref) / Math.max(1, Math.abs(ref))).toBeLessThan(1e-5);
    });
    expect(m.mean).toEqual([2.25, 0]);
    // Var x = Σw(σ² + μ²) − μ̄² = 0.25·1 + 0.75·(2 + 9) − 2.25² = 3.4375
    expect(m.covariance[0]![0]).toBeCloseTo(3.4375, 12);
    expect(m.covariance[1]![1]).toBeCloseTo(0.25 + 0.75 * 0.5, 12);
  });

  it('Funnel: E(0) = 0, marginal facts, log Z', () => {
    const f = keep(new Funnel({ dim: 3, scale: 3 }));
    expect(energyAt(f, [[0, 0, 0]])).toEqual([0]);
    expect(energyAt(f, [[1, 1, 0]])[0]).toBeCloseTo(1 / 18 + 0.5 * Math.exp(-1) + 1, 5);
    expect(f.variances).toEqual([9, Math.exp(4.5), Math.exp(4.5)]);
    expect(f.logNormalizer).toBeCloseTo(0.5 * Math.log(2 * Math.PI * 9) + Math.log(2 * Math.PI), 12);
  });

  it('Banana: minimum 0 on the curve x₂ = b(x₁² − σ²); moments', () => {
    const b = keep(new Banana());
    expect(energyAt(b, [[0, -3]])).toEqual([0]);
    expect(b.variances).toEqual([100, 1 + 2 * 0.03 ** 2 * 1e4]);
  });

  it('ManyWell: Z₁ ≈ 11784.50927, minima roots, modes, E at a mode', () => {
    const m = keep(new ManyWell({ dim: 4 }));
    expect(Math.abs(m.wellNormalizer - 11784.50927) / 11784.50927).toBeLessThan(1e-8);
    const [lo, hi] = m.wellMinima;
    expect(4 * lo ** 3 - 12 * lo - 0.5).toBeCloseTo(0, 10);
    expect(4 * hi ** 3 - 12 * hi - 0.5).toBeCloseTo(0, 10);
    expect(m.modes()).toHaveLength(4);
    const mode = m.modes()[3]!;
    const u = (x: number) => x ** 4 - 6 * x * x - 0.5 * x;
    expect(energyAt(m, [mode])[0]).toBeCloseTo(2 * u(hi), 4);
    const g = gradAt(m, [mode])[0]!;
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-4);
    expectEbmError(() => new ManyWell({ dim: 3 }), 'INVALID_PARAM');
  });
});

describe('parameter validation', () => {
  it('Gaussian rejects non-square, mismatched, asymmetric, indefinite and non-finite covariances', () => {
    expectEbmError(
      () =>
        new Gaussian({
          mean: [0, 0],
          covariance: [
            [1, 0, 0],
            [0, 1, 0],
          ],
        }),
      'SHAPE_MISMATCH',
    );
    expectEbmError(
      () =>
        new Gaussian({
          mean: [0, 0, 0],
          covariance: [
            [1, 0],
            [0, 1],
          ],
        }),
      'SHAPE_MISMATCH',
    );
    const asym = expectEbmError(
      () =>
        new Gaussian({
          mean: [0, 0],
          covariance: [
            [1, 0.5],
            [0.2, 1],
          ],
        }),
      'INVALID_PARAM',
    );
    expect(asym.message).toContain('symmetric');
    const indef = expectEbmError(
      () =>
        new Gaussian({
          mean: [0, 0],
          covariance: [
            [1, 2],
            [2, 1],
          ],
        }),
      'INVALID_PARAM',
    );
    expect(indef.message).toContain('positive definite');
    expectEbmError(
      () =>
        new Gaussian({
          mean: [0, 0],
          covariance: [
            [0, 0],
            [0, 1],
          ],
        }),
      'INVALID_PARAM',
    );
    expectEbmError(() => new Gaussian({ mean: [0, Number.NaN] }), 'NON_FINITE');
    expectEbmError(() => new Gaussian({ mean: [] }), 'SHAPE_MISMATCH');
    expectEbmError(
      () =>
        new Gaussian({
          mean: [0, 0],
          covariance: [
            [1, 0],
            [0, Number.POSITIVE_INFINITY],
          ],
        }),
      'NON_FINITE',
    );
  });

  it('Gaussian accepts tensors for mean and covariance', () => {
    const mu = tf.tensor1d([1, 2]);
    const cov = tf.tensor2d([
      [1, 0],
      [0, 4],
    ]);
    const g = keep(new Gaussian({ mean: mu as tf.Tensor1D, covariance: cov as tf.Tensor2D }));
    expect(g.mean).toEqual([1, 2]);
    expect(g.choleskyFactor).toEqual([
      [1, 0],
      [0, 2],
    ]);
    tf.dispose([mu, cov]);
  });

  it('scalar parameters are checked', () => {
    expectEbmError(() => new DoubleWell({ barrierHeight: -1 }), 'INVALID_PARAM');
    expectEbmError(() => new DoubleWell({ b: 0 }), 'INVALID_PARAM');
    expectEbmError(() => new Harmonic({ k: Number.NaN }), 'NON_FINITE');
    expectEbmError(() => new Rosenbrock({ b: 0 }), 'INVALID_PARAM');
    expectEbmError(() => new Ackley({ b: -0.2 }), 'INVALID_PARAM');
    expectEbmError(() => new Funnel({ dim: 1 }), 'INVALID_PARAM');
    expectEbmError(() => new Funnel({ scale: 0 }), 'INVALID_PARAM');
    expectEbmError(() => new Banana({ curvature: -1 }), 'INVALID_PARAM');
    expectEbmError(() => new DoubleWell({ dim: 0 }), 'INVALID_PARAM');
  });

  it('GaussianMixture validates weights, means and covariances', () => {
    expectEbmError(() => new GaussianMixture({ means: [] }), 'INVALID_PARAM');
    expectEbmError(() => new GaussianMixture({ means: [[0, 0], [1]] }), 'SHAPE_MISMATCH');
    expectEbmError(() => new GaussianMixture({ means: [[0], [1]], weights: [1] }), 'SHAPE_MISMATCH');
    expectEbmError(() => new GaussianMixture({ means: [[0], [1]], weights: [1, 0] }), 'INVALID_PARAM');
    expectEbmError(() => new GaussianMixture({ means: [[0], [1]], covariances: [[[1]]] }), 'SHAPE_MISMATCH');
    expectEbmError(
      () => new GaussianMixture({ means: [[0], [1]], covariances: [[[1]], [[-1]]] }),
      'INVALID_PARAM',
    );
  });

  it('a disposed energy refuses to run', () => {
    const g = new Gaussian({ mean: [0] });
    g.dispose();
    const x = tf.zeros([1, 1]) as tf.Tensor2D;
    expectEbmError(() => g.energy(x), 'STATE_ERROR');
    x.dispose();
  });

  it('constant tensors survive an enclosing tf.tidy', () => {
    let g: Gaussian | undefined;
    tf.tidy(() => {
      g = keep(new Gaussian({ mean: [1, 1] }));
    });
    if (g === undefined) throw new Error('unreachable');
    expect(energyAt(g, [[1, 1]])).toEqual([0]);
  });
});

describe('exact samplers match the known distributions (KS, false-fail rate 1e-4 per test)', () => {
  const n = 4000;
  it('Gaussian: coordinate marginals and random projections are N(wᵀμ, wᵀΣw); same key → same draws', () => {
    const mean = [1, -1, 0.5];
    const cov = [
      [2, 0.5, 0.1],
      [0.5, 1, -0.3],
      [0.1, -0.3, 0.7],
    ];
    const g = keep(new Gaussian({ mean, covariance: cov }));
    const seed = testSeed('gaussian-sampler');
    const s = g.sample(n, rngKey(seed));
    expect(s.shape).toEqual([n, 3]);
    expect(s.dtype).toBe('float32');
    const data = s.dataSync();
    const dirs = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0.6, -0.8, 0],
      [0.3, 0.5, -0.81],
    ];
    for (const w of dirs) {
      const m = w.reduce((a, wi, i) => a + wi * mean[i]!, 0);
      let v = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += w[i]! * cov[i]![j]! * w[j]!;
      const sd = Math.sqrt(v);
      expectKsOneSample(project(data, w), (x) => normalCdf((x - m) / sd), { seed, label: `w=${w}` });
      expectVariance(project(data, w), v, { seed, label: `var w=${w}` });
    }
    const again = g.sample(n, rngKey(seed));
    expect(Array.from(again.dataSync())).toEqual(Array.from(data));
    tf.dispose([s, again]);
  });

  it('GaussianMixture: marginals match Σwₖ Φ((x−μₖ)/σₖ); component frequencies match weights', () => {
    const m = keep(
      new GaussianMixture({
        weights: [0.2, 0.5, 0.3],
        means: [
          [-3, 0],
          [2, 1],
          [0, -2],
        ],
        covariances: [
          [
            [1, 0.3],
            [0.3, 0.5],
          ],
          [
            [0.5, 0],
            [0, 0.5],
          ],
          [
            [0.8, -0.2],
            [-0.2, 1.2],
          ],
        ],
      }),
    );
    const seed = testSeed('mixture-sampler');
    const { samples, components } = m.sampleWithComponents(n, rngKey(seed));
    const data = samples.dataSync();
    for (let j = 0; j < 2; j++) {
      const cdf = (x: number) =>
        m.weights.reduce(
          (a, w, k) => a + w * normalCdf((x - m.means[k]![j]!) / Math.sqrt(m.covariances[k]![j]![j]!)),
          0,
        );
      expectKsOneSample(column(data, 2, j), cdf, { seed, label: `marginal ${j}` });
      expectMean(column(data, 2, j), m.mean[j]!, { seed });
    }
    const w = [0.6, 0.8];
    const cdfW = (x: number) =>
      m.weights.reduce((a, wk, k) => {
        const mu = w[0]! * m.means[k]![0]! + w[1]! * m.means[k]![1]!;
        const c = m.covariances[k]!;
        const v = w[0]! ** 2 * c[0]![0]! + 2 * w[0]! * w[1]! * c[0]![1]! + w[1]! ** 2 * c[1]![1]!;
        return a + wk * normalCdf((x - mu) / Math.sqrt(v));
      }, 0);
    expectKsOneSample(project(data, w), cdfW, { seed, label: 'projection' });
    for (let k = 0; k < 3; k++) {
      const ind = Array.from(components, (c) => (c === k ? 1 : 0));
      expectMean(ind, m.weights[k]!, { seed, label: `weight ${k}` });
    }
    samples.dispose();
  });

  it('Funnel: v ~ N(0, σ²) and xᵢ | v ~ N(0, eᵛ)', () => {
    const f = keep(new Funnel({ dim: 4 }));
    const seed = testSeed('funnel-sampler');
    const s = f.sample(n, rngKey(seed));
    const data = s.dataSync();
    const v = column(data, 4, 0);
    expectKsOneSample(v, (x) => normalCdf(x / 3), { seed, label: 'v' });
    const std = Float64Array.from(column(data, 4, 2), (x, i) => x / Math.exp(v[i]! / 2));
    expectKsOneSample(std, normalCdf, { seed, label: 'x / e^{v/2}' });
    s.dispose();
  });

  it('Banana: x₁ ~ N(0, σ²), x₂ − b(x₁² − σ²) ~ N(0, 1), mean 0', () => {
    const b = keep(new Banana());
    const seed = testSeed('banana-sampler');
    const s = b.sample(n, rngKey(seed));
    const data = s.dataSync();
    const x1 = column(data, 2, 0);
    expectKsOneSample(x1, (x) => normalCdf(x / 10), { seed, label: 'x1' });
    const t = Float64Array.from(column(data, 2, 1), (x2, i) => x2 - 0.03 * (x1[i]! ** 2 - 100));
    expectKsOneSample(t, normalCdf, { seed, label: 't' });
    expectMean(column(data, 2, 1), 0, { seed, label: 'mean x2' });
    s.dispose();
  });

  it('ManyWell: well coordinates match the 1-D density (independent trapezoid CDF)', () => {
    const m = keep(new ManyWell({ dim: 4 }));
    const seed = testSeed('manywell-sampler');
    const s = m.sample(n, rngKey(seed));
    const data = s.dataSync();
    const { cdf } = trapezoidCdf((x) => x ** 4 - 6 * x * x - 0.5 * x, -4, 4);
    expectKsOneSample(column(data, 4, 0), cdf, { seed, label: 'well 0' });
    expectKsOneSample(column(data, 4, 2), cdf, { seed, label: 'well 1' });
    expectKsOneSample(column(data, 4, 1), normalCdf, { seed, label: 'gaussian 0' });
    s.dispose();
  });

  it('DoubleWell: coordinates match the 1-D density; Z₁ and Var agree with an independent quadrature', () => {
    const dw = keep(new DoubleWell({ barrierHeight: 2, b: 1 }));
    const ref = trapezoidCdf((x) => 2 * (x * x - 1) ** 2, -4, 4, 80_000);
    expect(Math.abs(dw.coordinateNormalizer - ref.z) / ref.z).toBeLessThan(1e-6);
    expect(Math.abs(dw.coordinateVariance - ref.m2) / ref.m2).toBeLessThan(1e-6);
    expect(dw.logNormalizer(3)).toBeCloseTo(3 * Math.log(ref.z), 6);
    const seed = testSeed('doublewell-sampler');
    const s = dw.sample(n, rngKey(seed), 3);
    const data = s.dataSync();
    for (let j = 0; j < 3; j++) expectKsOneSample(column(data, 3, j), ref.cdf, { seed, label: `coord ${j}` });
    s.dispose();
    expectEbmError(() => dw.sample(10, rngKey(1)), 'INVALID_PARAM');
  });

  it('Harmonic samples are N(0, 1/k); samplers validate n', () => {
    const h = keep(new Harmonic({ k: 4, dim: 2 }));
    const seed = testSeed('harmonic-sampler');
    const s = h.sample(n, foldIn(rngKey(seed), 1));
    expectKsOneSample(column(s.dataSync(), 2, 1), (x) => normalCdf(x / 0.5), { seed });
    s.dispose();
    expectEbmError(() => h.sample(0, rngKey(1)), 'INVALID_PARAM');
    expectEbmError(() => keep(new Gaussian({ mean: [0] })).sample(1.5, rngKey(1)), 'INVALID_PARAM');
  });
});

describe('modes are stationary local minima', () => {
  const withModes: {
    name: string;
    e: () => EnergyFunction & { modes(dim?: number): number[][] };
    dim?: number;
  }[] = [
    {
      name: 'Gaussian',
      e: () =>
        keep(
          new Gaussian({
            mean: [1, -2],
            covariance: [
              [2, 0.3],
              [0.3, 1],
            ],
          }),
        ),
    },
    { name: 'DoubleWell', e: () => keep(new DoubleWell({ b: 1.5 })), dim: 3 },
    { name: 'Harmonic', e: () => keep(new Harmonic()), dim: 2 },
    { name: 'Rosenbrock', e: () => keep(new Rosenbrock()), dim: 3 },
    { name: 'Ackley', e: () => keep(new Ackley()), dim: 2 },
    { name: 'Rastrigin', e: () => keep(new Rastrigin()), dim: 2 },
    { name: 'Banana', e: () => keep(new Banana({ dim: 3 })) },
    { name: 'Funnel', e: () => keep(new Funnel({ dim: 4 })) },
    { name: 'ManyWell', e: () => keep(new ManyWell({ dim: 4 })) },
  ];
  for (const c of withModes) {
    it(`${c.name}: ∇E ≈ 0 at every mode and E grows in 16 random directions`, () => {
      const e = c.e();
      const modes = c.dim === undefined ? e.modes() : e.modes(c.dim);
      const d = modes[0]!.length;
      for (const g of gradAt(e, modes)) for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-3);
      const dirs = normalArray(rngKey(testSeed(`modes-${c.name}`)), [16, d], 0, 0.05);
      for (const m of modes.slice(0, 8)) {
        const rows = Array.from({ length: 16 }, (_, r) => m.map((v, j) => v + dirs[r * d + j]!));
        const [e0] = energyAt(e, [m]);
        for (const v of energyAt(e, rows)) expect(v).toBeGreaterThan(e0! - 1e-5);
      }
    });
  }
});
