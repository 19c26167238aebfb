import { describe, expect, it } from 'vitest';
import { normalArray, rngKey } from './rng.js';
import { energyDistance, medianDistance, mmdRbf } from './sample-quality.js';

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
});
