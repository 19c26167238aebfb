import { normalArray, rngKey } from '@ebm/core';
import { expectMean, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  GradientDescentSampler,
  HamiltonianMonteCarlo,
  LangevinDynamics,
  type LangevinInfo,
  MALA,
  type MHInfo,
  NesterovSampler,
  ReplicaExchange,
  type ReplicaExchangeInfo,
} from '../src/index.js';
import { torchEbmGaussian } from './helpers.js';

const g = torchEbmGaussian();

describe('typed step info', () => {
  it('types each sampler’s info (no non-null assertions) and keeps acceptProb as an alias', () => {
    const x0 = tf.tensor2d([
      [0.3, -0.2],
      [2, 1],
    ]);
    const hmc = new HamiltonianMonteCarlo(g, { stepSize: 0.3, nLeapfrogSteps: 3 });
    const st = hmc.init(x0);
    const { state, info } = hmc.step(st, rngKey(1));
    expectTypeOf(info).toEqualTypeOf<MHInfo>();
    expectTypeOf(info.isAccepted).toEqualTypeOf<tf.Tensor1D>();
    expect(info.isAccepted.shape).toEqual([2]);
    expect(info.acceptanceRate.shape).toEqual([2]);
    expect(info.acceptProb).toBe(info.acceptanceRate);
    hmc.disposeState(st);
    hmc.disposeState(state);
    tf.dispose([info.isAccepted, info.acceptanceRate]);
    // Trajectory fields and diagnostics series are typed by the info too.
    const r = hmc.sampleSync({
      x0,
      nSteps: 2,
      diagnostics: true,
      trajectory: { fields: ['x', 'isAccepted'] },
    });
    expect(r.diagnostics?.acceptanceRate.shape).toEqual([2]);
    expect(r.trajectory?.isAccepted?.shape).toEqual([2, 2]);
    tf.dispose([r.samples, ...Object.values(r.diagnostics ?? {}), ...Object.values(r.trajectory ?? {})]);
    // @ts-expect-error HMC has no treeDepth info
    const fields: Parameters<typeof hmc.sampleSync>[0]['trajectory'] = { fields: ['treeDepth'] };
    void fields;

    const lan = new LangevinDynamics(g);
    const ls = lan.init(x0);
    const lr = lan.step(ls, rngKey(1));
    expectTypeOf(lr.info).toEqualTypeOf<LangevinInfo>();
    expect(Object.keys(lr.info)).toEqual([]);
    lan.disposeState(ls);
    lan.disposeState(lr.state);

    const pt = new ReplicaExchange(g, { temperatures: [1, 2, 4] });
    const ps = pt.init(x0);
    const pr = pt.step(ps, rngKey(2));
    expectTypeOf(pr.info).toEqualTypeOf<ReplicaExchangeInfo>();
    expectTypeOf(pr.info.swapRate).toEqualTypeOf<tf.Tensor2D>();
    expect(pr.info.swapRate.shape).toEqual([2, 2]);
    expect(pr.info.isAccepted.shape).toEqual([2]);
    pt.disposeState(ps);
    pt.disposeState(pr.state);
    tf.dispose(Object.values(pr.info));
    x0.dispose();
  });

  it('acceptanceRate is min(1, α), whose mean equals the mean of the 0/1 isAccepted (false-fail rate 1e-4)', () => {
    const seed = testSeed('is-accepted-vs-rate');
    const n = 4000;
    // Start away from the target so that α varies between chains.
    const x0 = tf.tidy(() =>
      tf.mul(tf.tensor2d(normalArray(rngKey(seed), [n, 2]), [n, 2]), 2.5),
    ) as tf.Tensor2D;
    const mala = new MALA(g, { stepSize: 0.8 });
    const st = mala.init(x0);
    const { state, info } = mala.step(st, rngKey(seed + 1));
    const acc = info.isAccepted.dataSync();
    const rate = info.acceptanceRate.dataSync();
    expect(acc.every((v) => v === 0 || v === 1)).toBe(true);
    expect(rate.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(rate.some((v) => v > 0 && v < 1)).toBe(true);
    expectMean(
      Float64Array.from(acc, (a, i) => a - rate[i]!),
      0,
      { falseFailRate: 1e-4, label: 'E[isAccepted − acceptanceRate]', seed },
    );
    mala.disposeState(st);
    mala.disposeState(state);
    tf.dispose([x0, info.isAccepted, info.acceptanceRate]);
  });
});

describe('withParams / params', () => {
  it('Langevin: another step size and diagonal mass, the rest kept', () => {
    const lan = new LangevinDynamics(g, {
      stepSize: 0.01,
      noiseScale: 0.5,
      clamp: [-3, 3],
      integrator: 'heun',
    });
    expect(lan.params()).toEqual({ stepSize: 0.01, invMass: 1 });
    const tuned = lan.withParams({ stepSize: 0.2, invMass: Float32Array.from([1, 0.5]) });
    expect(tuned).toBeInstanceOf(LangevinDynamics);
    expect(tuned.params(5).stepSize).toBe(0.2);
    expect(Array.from(tuned.invMass as Float32Array)).toEqual([1, 0.5]);
    expect(tuned.clamp).toEqual([-3, 3]);
    expect(tuned.integrator).toBe('heun');
    expect(tuned.withParams({ stepSize: 0.1 }).invMass).toEqual(tuned.invMass); // mass kept when omitted
    expect(() => lan.withParams({ stepSize: -1 })).toThrowError(/INVALID_PARAM.*stepSize/);
  });

  it('preconditioned Langevin step is x − h·M⁻¹∇E + σ√(2h)·M^{−1/2}ξ', () => {
    const h = 0.05;
    const sigma = 0.7;
    const inv = [1, 0.25];
    const s = new LangevinDynamics(g, { stepSize: h, noiseScale: sigma, mass: [1, 4] });
    const key = rngKey(11);
    const x0 = [
      [0.3, -0.2],
      [2, 1],
    ];
    const st = s.init(tf.tensor2d(x0));
    const { state } = s.step(st, key);
    const xi = normalArray(key, [2, 2]);
    const got = state.x.arraySync();
    x0.forEach((row, i) => {
      const d = [row[0]! - 1, row[1]! + 1];
      const gr = [0, 1].map((j) => g.prec[j]![0]! * d[0]! + g.prec[j]![1]! * d[1]!);
      for (let j = 0; j < 2; j++) {
        const want = row[j]! - h * inv[j]! * gr[j]! + sigma * Math.sqrt(2 * h * inv[j]!) * xi[i * 2 + j]!;
        expect(got[i]![j]!).toBeCloseTo(want, 5);
      }
    });
    s.disposeState(st);
    s.disposeState(state);
  });

  it('MH samplers keep their mass when invMass is omitted; descent samplers refuse a mass', () => {
    const mala = new MALA(g, { stepSize: 0.1, mass: [1, 2] });
    const m2 = mala.withParams({ stepSize: 0.3 });
    expect(m2.params().stepSize).toBe(0.3);
    expect(Array.from(m2.invMass as Float32Array)).toEqual([1, 0.5]);
    const hmc = new HamiltonianMonteCarlo(g, { nLeapfrogSteps: 7 }).withParams({
      stepSize: 0.2,
      invMass: 0.5,
    });
    expect(hmc.nLeapfrogSteps).toBe(7);
    expect(hmc.invMass).toBe(0.5);
    const pt = new ReplicaExchange(g, { temperatures: [1, 3], kernel: 'mala' }).withParams({
      stepSize: 0.05,
    });
    expect(pt.temperatures).toEqual([1, 3]);
    expect(pt.kernel).toBe('mala');
    expect(pt.params()).toEqual({ stepSize: 0.05, invMass: 1 });
    const gd = new GradientDescentSampler(g).withParams({ stepSize: 0.3 });
    expect(gd.params(0).stepSize).toBe(0.3);
    const nv = new NesterovSampler(g, { momentum: 0.5 }).withParams({ stepSize: 0.2 });
    expect(nv.momentum).toBe(0.5);
    expect(nv.params().stepSize).toBe(0.2);
    expect(() => new NesterovSampler(g).withParams({ stepSize: 0.2, invMass: 2 })).toThrowError(
      /INVALID_PARAM.*invMass/,
    );
  });
});
