import { describe, expect, it } from 'vitest';
import { normalArray, rngKey } from './rng.js';
import {
  checkerboardShare,
  energyDistance,
  medianDistance,
  medianPairwiseDistance,
  mmdMulti,
  mmdRbf,
  modeCoverage,
} from './sample-quality.js';

describe('sample quality', () => {
  it('hand-computed values on tiny sets', () => {
    // x = {0, 1}, y = {0, 1} (1-D), ℓ = 1: kxx = kyy = e^{-1/2}, kxy mean = (1 + 1 + 2e^{-1/2})/4
    const e = Math.exp(-0.5);
    expect(mmdRbf([0, 1], [0, 1], 1, { bandwidth: 1 })).toBeCloseTo(2 * e - 2 * ((2 + 2 * e) / 4), 12);
    // energy distance of {0, 1} vs {2, 3}: E|X−Y| = 2, E|X−X'| = E|Y−Y'| = 1 → 2·2 − 1 − 1 = 2
    expect(energyDistance([0, 1], [2, 3], 1)).toBeCloseTo(2, 12);
    expect(medianDistance([0, 0, 3, 4], [0, 0, 3, 4], 2)).toBeGreaterThan(0);
  });
  it('is near 0 for the same law and clearly positive for shifted samples', () => {
    const a = normalArray(rngKey(1), [400, 2]);
    const b = normalArray(rngKey(2), [400, 2]);
    const c = normalArray(rngKey(3), [400, 2], 1, 1);
    const same = mmdRbf(a, b, 2);
    const diff = mmdRbf(a, c, 2);
    expect(Math.abs(same)).toBeLessThan(0.01);
    expect(diff).toBeGreaterThan(0.1);
    expect(Math.abs(energyDistance(a, b, 2))).toBeLessThan(0.05);
    expect(energyDistance(a, c, 2)).toBeGreaterThan(0.4);
  });
  it('validates its inputs', () => {
    expect(() => mmdRbf([1, 2, 3], [1, 2], 2)).toThrowError(/SHAPE_MISMATCH/);
    expect(() => mmdRbf([1, 2], [1, 2, 3, 4], 2)).toThrowError(/at least 2 points/);
    expect(() => mmdRbf([0, 1], [0, Number.NaN], 1)).toThrowError(/NON_FINITE/);
    expect(() => mmdRbf([0, 1], [0, 1], 1, { bandwidth: -1 })).toThrowError(/bandwidth/);
    expect(() => energyDistance([0, 1], [0, 1], 0)).toThrowError(/dim/);
  });

  it('multi-bandwidth MMD², mode coverage and checkerboard share: hand-computed values', () => {
    // median pairwise distance: {0, 1, 3} → {1, 3, 2} → 2; {0, 1, 3, 7} → {1, 2, 3, 4, 6, 7} → 3.5
    expect(medianPairwiseDistance([0, 1, 3], 1)).toBe(2);
    expect(medianPairwiseDistance([0, 1, 3, 7], 1)).toBe(3.5);
    // x = {0, 1}, y = {0, 2}: kxx = k(1), kyy = k(2), mean kxy = (k(0) + k(2) + 2k(1))/4, k(d) = exp(−d²/(2ℓ²))
    const mmd1 = (ell: number) => {
      const k = (d: number) => Math.exp(-(d * d) / (2 * ell * ell));
      return k(1) + k(2) - 2 * ((1 + k(2) + 2 * k(1)) / 4);
    };
    expect(mmdMulti([0, 1], [0, 2], 1, { scales: [1], medianDistance: 1 })).toBeCloseTo(mmd1(1), 12);
    expect(mmdMulti([0, 1], [0, 2], 1, { scales: [1], medianDistance: 1 })).toBeCloseTo(
      mmdRbf([0, 1], [0, 2], 1, { bandwidth: 1 }),
      12,
    );
    expect(mmdMulti([0, 1], [0, 2], 1, { scales: [0.5, 3], medianDistance: 2 })).toBeCloseTo(
      mmd1(1) + mmd1(6),
      12,
    );
    // default: bandwidths {0.25, 0.5, 1, 2, 4} × the data's median distance (data {0, 1, 3}: median 2)
    const y = [0, 1, 3];
    const x = [0.5, 2];
    const kk = (a: number, b: number, ell: number) => Math.exp(-((a - b) ** 2) / (2 * ell * ell));
    let want = 0;
    for (const ell of [0.5, 1, 2, 4, 8]) {
      const kxx = kk(0.5, 2, ell);
      const kyy = (kk(0, 1, ell) + kk(0, 3, ell) + kk(1, 3, ell)) / 3;
      let kxy = 0;
      for (const a of x) for (const b of y) kxy += kk(a, b, ell) / 6;
      want += kxx + kyy - 2 * kxy;
    }
    expect(mmdMulti(x, y, 1)).toBeCloseTo(want, 12);
    // two centres, radius 1: 2 samples near centre 0, 1 near centre 1, 1 far from both
    const cov = modeCoverage(
      [0.5, 0, 0, 0.9, 10, 0.2, 5, 5],
      2,
      [
        [0, 0],
        [10, 0],
      ],
      { radius: 1, minShare: 0.3 },
    );
    expect(cov.shares).toEqual([0.5, 0.25]);
    expect(cov.withinShare).toBe(0.75);
    expect(cov.modesHeld).toBe(1);
    expect(
      modeCoverage(
        [0.5, 0, 10, 0],
        2,
        [
          [0, 0],
          [10, 0],
        ],
        { radius: 1 },
      ).modesHeld,
    ).toBe(2);
    // (0.5, −0.5): ⌊⌋ sum −1, filled; (0.5, 0.5): 0, empty; (−0.5, 0.5): filled; (4.5, −0.5): off the board
    expect(checkerboardShare([0.5, -0.5, 0.5, 0.5, -0.5, 0.5, 4.5, -0.5])).toBe(0.5);
    expect(checkerboardShare([4.5, -0.5], 5)).toBe(1);
  });
  it('multi-bandwidth MMD² is ~0 for the same law and positive for a blur', () => {
    const a = normalArray(rngKey(1), [300, 2]);
    const b = normalArray(rngKey(2), [300, 2]);
    const c = normalArray(rngKey(3), [300, 2], 0, 2);
    expect(Math.abs(mmdMulti(a, b, 2))).toBeLessThan(0.02);
    expect(mmdMulti(c, b, 2)).toBeGreaterThan(0.2);
    expect(() => mmdMulti([0, 1], [0, 2], 1, { scales: [] })).toThrowError(/bandwidths/);
    expect(() => modeCoverage([0, 0], 2, [[0, 0]], { radius: 0 })).toThrowError(/radius/);
    expect(() => checkerboardShare([0, 0, 1])).toThrowError(/SHAPE_MISMATCH/);
  });
});
