import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalQuantile, rngKey } from '@ebm/core';
import { expectEbmError, expectKsOneSample, expectMean, expectNoLeaks, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  checkerboard,
  circle,
  concentricRings,
  DATASET_NAMES,
  EIGHT_GAUSSIAN_CENTERS,
  eightGaussians,
  gaussianMixture,
  grid,
  isCheckerboardCell,
  makeDataset,
  type PointDataset,
  permutation,
  pinwheel,
  swissRoll,
  twoMoons,
  twoSpirals,
} from '../src/index.js';

const col = (ds: PointDataset, j: number) =>
  Float64Array.from({ length: ds.nSamples }, (_, i) => ds.data[2 * i + j]!);
const radius = (ds: PointDataset, i: number) => Math.hypot(ds.data[2 * i]!, ds.data[2 * i + 1]!);

/** Upper 1−α quantile of χ²ₖ, Wilson–Hilferty approximation (accurate to ~1% for k ≥ 10). */
function chiSquareQuantile(k: number, alpha: number): number {
  const z = normalQuantile(1 - alpha);
  return k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
}

describe('every generator', () => {
  for (const name of DATASET_NAMES) {
    it(`${name}: default size, 2 columns, finite float32, same seed → same points, new seed → new points`, () => {
      const a = makeDataset(name, { seed: 7 });
      const b = makeDataset(name, { seed: 7 });
      const c = makeDataset(name, { seed: 8 });
      expect(a.nSamples).toBe(name === 'grid' ? 100 : 2000);
      expect(a.dim).toBe(2);
      expect(a.data).toBeInstanceOf(Float32Array);
      expect(a.data.every(Number.isFinite)).toBe(true);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
      expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
      const t = a.toTensor();
      expect(t.shape).toEqual([a.nSamples, 2]);
      expect(t.dtype).toBe('float32');
      expect(Array.from(t.dataSync())).toEqual(Array.from(a.data));
      t.dispose();
    });
  }

  it('validates parameters with EbmError codes', () => {
    expectEbmError(() => twoMoons({ nSamples: 0 }), 'INVALID_PARAM');
    expectEbmError(() => twoMoons({ noise: -1 }), 'INVALID_PARAM');
    expectEbmError(() => circle({ radius: 0 }), 'INVALID_PARAM');
    expectEbmError(() => gaussianMixture({ nComponents: 1.5 }), 'INVALID_PARAM');
    expectEbmError(() => checkerboard({ rangeLimit: 0.5 }), 'INVALID_PARAM');
    expectEbmError(() => grid({ nSamplesPerDim: 0 }), 'INVALID_PARAM');
    expectEbmError(() => concentricRings({ radii: [1, -1] }), 'INVALID_PARAM');
    expectEbmError(() => swissRoll({ seed: 1.5 }), 'INVALID_PARAM');
    expectEbmError(() => makeDataset('nope' as never), 'INVALID_PARAM');
  });

  it('accepts a core RngKey as seed', () => {
    const key = rngKey(123);
    expect(Array.from(circle({ seed: key }).data)).toEqual(Array.from(circle({ seed: 123 }).data));
  });
});

describe('generator geometry (TorchEBM definitions)', () => {
  it('gaussianMixture: equal counts (remainder first), points around r·(cos 2πk/K, sin 2πk/K)', () => {
    const seed = testSeed('gm');
    const ds = gaussianMixture({ nSamples: 2003, nComponents: 4, std: 0.1, radius: 3, seed });
    const counts = [0, 0, 0, 0];
    for (const l of ds.labels!) counts[l]! += 1;
    expect(counts).toEqual([501, 501, 501, 500]);
    for (let k = 0; k < 4; k++) {
      const xs: number[] = [];
      for (let i = 0; i < ds.nSamples; i++) if (ds.labels![i] === k) xs.push(ds.data[2 * i]!);
      expectMean(xs, 3 * Math.cos((2 * Math.PI * k) / 4), { seed, label: `component ${k}` });
    }
    // Shuffled: labels are not in blocks.
    expect(Array.from(ds.labels!.subarray(0, 20)).every((l) => l === 0)).toBe(false);
  });

  it('eightGaussians: every point within 6σ of its centre scale·c', () => {
    const ds = eightGaussians({ seed: testSeed('8g') });
    for (let i = 0; i < ds.nSamples; i++) {
      const c = EIGHT_GAUSSIAN_CENTERS[ds.labels![i]!]!;
      expect(Math.hypot(ds.data[2 * i]! - 2 * c[0], ds.data[2 * i + 1]! - 2 * c[1])).toBeLessThan(
        6 * 0.02 * 1.5,
      );
    }
  });

  it('twoMoons: noise 0 puts the outer moon on the unit circle and the inner on its shifted mirror, outer first', () => {
    const ds = twoMoons({ nSamples: 101, noise: 0 });
    expect(Array.from(ds.labels!.subarray(0, 50)).every((l) => l === 0)).toBe(true);
    expect(Array.from(ds.labels!.subarray(50)).every((l) => l === 1)).toBe(true);
    for (let i = 0; i < 50; i++) {
      expect(radius(ds, i)).toBeCloseTo(1, 6);
      expect(ds.data[2 * i + 1]!).toBeGreaterThanOrEqual(-1e-7);
    }
    for (let i = 50; i < 101; i++) {
      expect(Math.hypot(ds.data[2 * i]! - 1, ds.data[2 * i + 1]! - 0.5)).toBeCloseTo(1, 6);
    }
    expect(ds.row(0)).toEqual([1, 0]);
  });

  it("twoMoons noiseKind 'uniformShift': each point is its noiseless point + (u, u), u ~ U[0, noise)", () => {
    const n = 20_000;
    const noise = 0.2;
    const clean = twoMoons({ nSamples: n, noise: 0 });
    const ds = twoMoons({ nSamples: n, noise, noiseKind: 'uniformShift', seed: 4 });
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const dx = ds.data[2 * i]! - clean.data[2 * i]!;
      const dy = ds.data[2 * i + 1]! - clean.data[2 * i + 1]!;
      expect(Math.abs(dx - dy)).toBeLessThan(1e-6); // one shift for both coordinates (float32 rounding)
      u[i] = dx / noise;
    }
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1e-6);
    expect(Math.max(...u)).toBeLessThan(1 + 1e-6);
    // U[0, 1): mean 1/2, sd 1/√12; |mean − 1/2| < 5·sd/√n (false-fail rate 6e-7).
    const mean = u.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 / Math.sqrt(12) / Math.sqrt(n));
    // Kolmogorov–Smirnov against U[0, 1): D < 1.95/√n (α = 0.001).
    const sorted = Array.from(u).sort((a, b) => a - b);
    let d = 0;
    for (let i = 0; i < n; i++)
      d = Math.max(d, Math.abs((i + 1) / n - sorted[i]!), Math.abs(sorted[i]! - i / n));
    expect(d).toBeLessThan(1.95 / Math.sqrt(n));
    expectEbmError(() => twoMoons({ noiseKind: 'uniform' as never }), 'INVALID_PARAM');
  });

  it('swissRoll: standardised to mean 0 and 2·mean(std) = 1', () => {
    const ds = swissRoll({ seed: 3 });
    for (let j = 0; j < 2; j++) {
      const x = col(ds, j);
      expect(Math.abs(x.reduce((a, b) => a + b, 0) / x.length)).toBeLessThan(1e-6);
    }
    const sd = (x: Float64Array) => {
      const m = x.reduce((a, b) => a + b, 0) / x.length;
      return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1));
    };
    expect(sd(col(ds, 0)) + sd(col(ds, 1))).toBeCloseTo(1, 5);
  });

  it('circle: noise 0 gives radius exactly r and uniform angles (KS, false-fail rate 1e-4)', () => {
    const seed = testSeed('circle');
    const ds = circle({ noise: 0, radius: 2, seed });
    const angles = Float64Array.from({ length: ds.nSamples }, (_, i) => {
      expect(radius(ds, i)).toBeCloseTo(2, 5);
      return Math.atan2(ds.data[2 * i + 1]!, ds.data[2 * i]!);
    });
    expectKsOneSample(angles, (a) => (a + Math.PI) / (2 * Math.PI), { seed });
  });

  it('pinwheel: K equal blades, radius ≤ radialScale without noise', () => {
    const ds = pinwheel({ nSamples: 1000, noise: 0, seed: 2 });
    const counts = [0, 0, 0, 0, 0];
    for (const l of ds.labels!) counts[l]! += 1;
    expect(counts).toEqual([200, 200, 200, 200, 200]);
    for (let i = 0; i < ds.nSamples; i++) expect(radius(ds, i)).toBeLessThanOrEqual(2 + 1e-6);
  });

  it('grid: n² points on the ij meshgrid of linspace(−L, L, n) without noise', () => {
    const ds = grid({ nSamplesPerDim: 3, rangeLimit: 2, noise: 0 });
    expect(Array.from(ds.data)).toEqual([-2, -2, -2, 0, -2, 2, 0, -2, 0, 0, 0, 2, 2, -2, 2, 0, 2, 2]);
  });

  it('twoSpirals: without noise each point lies on its Archimedean arm, point symmetric', () => {
    const ds = twoSpirals({ nSamples: 400, noise: 0, seed: 4 });
    const tMax = 2 * Math.PI * 1.5;
    for (let i = 0; i < ds.nSamples; i++) {
      const x = ds.data[2 * i]!;
      const y = ds.data[2 * i + 1]!;
      const r = Math.hypot(x, y);
      const theta = (r * tMax) / 2;
      const phase = theta + ds.labels![i]! * Math.PI;
      expect(Math.hypot(x - r * Math.cos(phase), y - r * Math.sin(phase))).toBeLessThan(1e-4);
    }
  });

  it('concentricRings: without noise each point lies on its ring; explicit radii honoured', () => {
    const ds = concentricRings({ nSamples: 300, noise: 0, seed: 5 });
    for (let i = 0; i < ds.nSamples; i++)
      expect(radius(ds, i)).toBeCloseTo(((ds.labels![i]! + 1) * 2) / 3, 5);
    const r2 = concentricRings({ nSamples: 10, radii: [0.5, 4], noise: 0 });
    for (let i = 0; i < r2.nSamples; i++) expect(radius(r2, i)).toBeCloseTo([0.5, 4][r2.labels![i]!]!, 5);
  });
});

describe('checkerboard without TorchEBM’s leak', () => {
  it('noise 0: no point in an empty cell or outside [−L, L]²', () => {
    const ds = checkerboard({ nSamples: 20_000, seed: testSeed('cb-empty') });
    for (let i = 0; i < ds.nSamples; i++) {
      const x = ds.data[2 * i]!;
      const y = ds.data[2 * i + 1]!;
      expect(isCheckerboardCell(x, y)).toBe(true);
      expect(Math.abs(x) <= 4 && Math.abs(y) <= 4).toBe(true);
    }
  });

  it('noise 0.1: still no point in an empty cell (rejection after the noise)', () => {
    const ds = checkerboard({ nSamples: 20_000, noise: 0.1, seed: testSeed('cb-noise') });
    let bad = 0;
    for (let i = 0; i < ds.nSamples; i++)
      if (!isCheckerboardCell(ds.data[2 * i]!, ds.data[2 * i + 1]!)) bad++;
    expect(bad).toBe(0);
  });

  it('occupancy of the 32 filled cells is balanced: χ² test, false-fail rate 1e-4', () => {
    const seed = testSeed('cb-balance');
    const n = 32_000;
    const ds = checkerboard({ nSamples: n, seed });
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const key = `${Math.floor(ds.data[2 * i]!)},${Math.floor(ds.data[2 * i + 1]!)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    const expected = n / 32;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
    const threshold = chiSquareQuantile(31, 1e-4);
    expect(chi2, `χ²=${chi2.toFixed(1)} > ${threshold.toFixed(1)} (seed ${seed})`).toBeLessThan(threshold);
  });
});

describe('batches', () => {
  it('each epoch visits every row once; same seed → same order; epochs differ', () => {
    const ds = twoMoons({ nSamples: 103, seed: 1 });
    const seen: number[][] = [];
    const sizes: number[] = [];
    for (const b of ds.arrayBatches(25, { seed: 9, epochs: 2 })) {
      sizes.push(b.indices.length);
      seen.push(Array.from(b.indices));
      for (let r = 0; r < b.indices.length; r++) {
        expect(b.data[2 * r]).toBe(ds.data[2 * b.indices[r]!]);
        expect(b.labels![r]).toBe(ds.labels![b.indices[r]!]);
      }
    }
    expect(sizes).toEqual([25, 25, 25, 25, 3, 25, 25, 25, 25, 3]);
    const epoch0 = seen.slice(0, 5).flat();
    const epoch1 = seen.slice(5).flat();
    expect([...epoch0].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect([...epoch1].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(epoch0).not.toEqual(epoch1);
    const again = Array.from(ds.arrayBatches(25, { seed: 9, epochs: 2 }), (b) => Array.from(b.indices));
    expect(again).toEqual(seen);
    const dropped = Array.from(ds.arrayBatches(25, { dropLast: true }), (b) => b.indices.length);
    expect(dropped).toEqual([25, 25, 25, 25]);
    const ordered = Array.from(ds.arrayBatches(50, { shuffle: false }), (b) => b.indices[0]);
    expect(ordered).toEqual([0, 50, 100]);
    expectEbmError(() => ds.arrayBatches(0).next(), 'INVALID_PARAM');
  });

  it('tensor batches have the right shapes and leak nothing', async () => {
    const ds = circle({ nSamples: 50 });
    const shapes: number[][] = [];
    for (const b of ds.batches(20, { seed: 1 })) {
      shapes.push(b.shape);
      b.dispose();
    }
    expect(shapes).toEqual([
      [20, 2],
      [20, 2],
      [10, 2],
    ]);
    await expectNoLeaks(() => {
      for (const b of ds.batches(16)) b.dispose();
    });
    await expectNoLeaks(() => ds.toTensor());
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });

  it('permutation is a bijection and deterministic', () => {
    const p = permutation(1000, rngKey(3));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(1000, rngKey(3)))).toEqual(Array.from(p));
  });
});

describe('dependencies', () => {
  it('depends at run time on @ebm/core only (never on @ebm/models)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['@ebm/core']);
    for (const f of readdirSync(join(root, 'src'))) {
      if (!f.endsWith('.ts')) continue;
      const src = readFileSync(join(root, 'src', f), 'utf8');
      expect(src).not.toMatch(/from '@ebm\/(?!core)/);
    }
  });
});
