import { describe, expect, it } from 'vitest';
import {
  acceptanceRate,
  autocorrelation,
  autocovariance,
  essBasic,
  essBulk,
  essFromAutocovariance,
  essTail,
  mcseMean,
  normalCdf,
  normalQuantile,
  rankNormalize,
  rhatBasic,
  splitChains,
  splitRhat,
  splitRhatEss,
} from './diagnostics.js';
import { normalArray, rngKey } from './rng.js';

function ar1(key: number, n: number, phi: number): number[] {
  const z = normalArray(rngKey(key), [n]);
  const out = new Array<number>(n);
  let x = z[0]! / Math.sqrt(1 - phi * phi);
  for (let i = 0; i < n; i++) {
    x = i === 0 ? x : phi * x + z[i]!;
    out[i] = x;
  }
  return out;
}

describe('hand-computed values', () => {
  it('acceptance rate', () => {
    expect(acceptanceRate([1, 0, 1, 1])).toBe(0.75);
    expect(acceptanceRate([0.5, 1])).toBe(0.75);
    expect(() => acceptanceRate([])).toThrowError(/INVALID_PARAM/);
    expect(() => acceptanceRate([2])).toThrowError(/\[0, 1\]/);
  });
  it('autocovariance of [1,2,3,4] is (1.25, 0.3125, −0.375, −0.5625)', () => {
    const g = autocovariance([1, 2, 3, 4]);
    [1.25, 0.3125, -0.375, -0.5625].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 12));
    const r = autocorrelation([1, 2, 3, 4], 2);
    expect(r.length).toBe(3);
    expect(r[1]).toBeCloseTo(0.25, 12);
    expect(Array.from(autocorrelation([3, 3, 3]))).toEqual([1, 0, 0]);
    // odd length, FFT padding path
    const g5 = autocovariance([1, 0, 0, 0, 1]);
    expect(g5[4]).toBeCloseTo(((1 - 0.4) * (1 - 0.4)) / 5, 12);
  });
  it('classic R̂ of [[1,2,3],[2,3,4]] is √(3.5/3)', () => {
    expect(
      rhatBasic([
        [1, 2, 3],
        [2, 3, 4],
      ]),
    ).toBeCloseTo(Math.sqrt(3.5 / 3), 12);
    expect(
      rhatBasic([
        [1, 1],
        [1, 1],
      ]),
    ).toBe(1);
  });
  it('split chains drop the middle draw of odd lengths', () => {
    expect(splitChains([[1, 2, 3, 4, 5]])).toEqual([
      [1, 2],
      [4, 5],
    ]);
  });
  it('rank normalisation uses average ranks and (r − 3/8)/(S + 1/4)', () => {
    const z = rankNormalize([
      [1, 1],
      [2, 3],
    ]);
    expect(z[0]![0]).toBeCloseTo(normalQuantile((1.5 - 0.375) / 4.25), 12);
    expect(z[0]![1]).toBe(z[0]![0]);
    expect(z[1]![1]).toBeCloseTo(normalQuantile((4 - 0.375) / 4.25), 12);
  });
  it('normal quantile and CDF', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 7);
    expect(normalQuantile(1 - 1e-10)).toBeCloseTo(6.361340902, 5);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(() => normalQuantile(1.2)).toThrowError(/INVALID_PARAM/);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
  });
  it('ESS of a constant chain is the number of draws; ESS of an alternating chain exceeds it', () => {
    expect(
      essBasic([
        [2, 2, 2, 2, 2],
        [2, 2, 2, 2, 2],
      ]),
    ).toBe(10);
    // anti-correlated draws: ESS > N (Geyer's estimator allows it), capped below by log10 rule
    const alt = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : -1) + 0.01 * Math.sin(i));
    expect(essBasic([alt])).toBeGreaterThan(200);
  });
});

describe('statistical behaviour (fixed seeds)', () => {
  it('ESS of iid normal draws ≈ N and of AR(1) ≈ N(1−φ)/(1+φ)', () => {
    const chains = [0, 1, 2, 3].map((k) => Array.from(normalArray(rngKey(100 + k), [2000])));
    const e = essBulk(chains);
    expect(e).toBeGreaterThan(8000 * 0.85);
    expect(e).toBeLessThan(8000 * 1.15);
    const phi = 0.8;
    const ar = [0, 1, 2, 3].map((k) => ar1(200 + k, 5000, phi));
    const target = (20000 * (1 - phi)) / (1 + phi);
    const eb = essBulk(ar);
    expect(eb).toBeGreaterThan(target * 0.75);
    expect(eb).toBeLessThan(target * 1.3);
    const et = essTail(ar);
    // indicators of the 5% tails decorrelate faster than x itself: between the bulk ESS and N
    expect(et).toBeGreaterThan(target * 0.75);
    expect(et).toBeLessThan(20000);
    expect(mcseMean(ar)).toBeGreaterThan(Math.sqrt(1 / (1 - phi * phi) / 20000));
  });
  it('split-R̂ ≈ 1 for mixed chains and > 1.1 for chains stuck in different places or drifting', () => {
    const good = [0, 1, 2, 3].map((k) => Array.from(normalArray(rngKey(300 + k), [1000])));
    const r = splitRhat(good);
    expect(r).toBeGreaterThan(0.99);
    expect(r).toBeLessThan(1.01);
    const shifted = good.map((c, k) => c.map((v) => v + (k < 2 ? 0 : 2)));
    expect(splitRhat(shifted)).toBeGreaterThan(1.1);
    const drifting = [good[0]!.map((v, i) => v + i / 100)];
    expect(splitRhat(drifting)).toBeGreaterThan(1.1);
    // different scales: caught by the folded (tail) R-hat
    const scaled = good.map((c, k) => c.map((v) => v * (k < 2 ? 1 : 4)));
    expect(splitRhat(scaled)).toBeGreaterThan(1.05);
    const all = splitRhatEss(good);
    expect(all.rhat).toBe(r);
    expect(all.essBulk).toBeGreaterThan(3000);
  });
  it('validates chains', () => {
    expect(() => splitRhat([])).toThrowError(/non-empty/);
    expect(() =>
      splitRhat([
        [1, 2, 3, 4],
        [1, 2],
      ]),
    ).toThrowError(/SHAPE_MISMATCH/);
    expect(() => splitRhat([[1, 2, Number.NaN, 4]])).toThrowError(/NON_FINITE/);
    expect(() => splitRhat([[1, 2]])).toThrowError(/at least 4 draws/);
    expect(() => rhatBasic([[1, 2, 3]])).toThrowError(/at least 2 chains/);
  });
});

describe('essFromAutocovariance (the autocovariance → ESS step of essBasic)', () => {
  const ar = [0, 1, 2].map((k) => ar1(400 + k, 600, 0.9));
  const acov = ar.map((c) => autocovariance(c));
  const means = ar.map((c) => c.reduce((a, b) => a + b, 0) / c.length);
  const meanAcov = (t: number) => acov.reduce((a, g) => a + g[t]!, 0) / acov.length;
  it('equals essBasic without maxLag, and is not truncated', () => {
    const r = essFromAutocovariance(means, meanAcov, 600);
    expect(r.ess).toBe(essBasic(ar));
    expect(r.truncated).toBe(false);
  });
  it('stops at maxLag and flags the truncation (over-estimating the ESS of correlated chains)', () => {
    const full = essFromAutocovariance(means, meanAcov, 600).ess;
    const cut = essFromAutocovariance(means, (t) => (t <= 4 ? meanAcov(t) : Number.NaN), 600, 4);
    expect(cut.truncated).toBe(true);
    expect(cut.ess).toBeGreaterThan(full);
    // a long enough maxLag changes nothing
    expect(essFromAutocovariance(means, meanAcov, 600, 599)).toEqual({ ess: full, truncated: false });
  });
  it('a non-finite variance (a diverged chain) gives NaN', () => {
    expect(essFromAutocovariance([0, Number.NaN], () => Number.NaN, 10).ess).toBeNaN();
  });
});
