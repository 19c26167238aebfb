import { foldIn, isEbmError, randomNormal, rngKey } from '@ebm/core';
import { expectNoLeaksSync, expectWithinStandardError, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  ContrastiveDivergence,
  ParallelTemperingCD,
  PersistentContrastiveDivergence,
  ReplayBuffer,
  stopGradient,
  withoutTape,
} from '../src/index.js';
import { GaussianEnergy, Mala, ReplicaExchange } from './fixtures.js';

describe('contrastive divergence', () => {
  it('differentiates E(x⁺) and E(x⁻) only, never through the sampler', () => {
    // For E = ½(x − μ)ᵀP(x − μ) with fixed negatives, ∂L/∂μ = P(mean x⁻ − mean x⁺) exactly. A gradient that
    // leaked through the sampler would add the chain's Jacobian terms.
    const energy = new GaussianEnergy(2, { mu: [0.3, -0.2], logDiag: [0.1, -0.2] });
    const sampler = new Mala(energy, 0.2);
    const loss = new ContrastiveDivergence(energy, { sampler, k: 5 });
    const x = tf.add(randomNormal(rngKey(testSeed('cd-grad')), [64, 2]), 1) as tf.Tensor2D;
    let neg: tf.Tensor2D | undefined;
    const { grads, value } = tf.variableGrads(() => {
      const out = loss.compute(x, { key: rngKey(3) });
      neg = tf.keep(out.negatives!);
      return out.loss;
    }, energy.trainableVariables);
    const gMu = grads[energy.mu.name]!.arraySync() as number[];
    const expected = tf.tidy(() => {
      const p = tf.tensor2d(energy.precision());
      const diff = tf.sub(tf.mean(neg!, 0), tf.mean(x, 0));
      return tf.matMul(p, tf.reshape(diff, [2, 1])).dataSync();
    });
    expect(gMu[0]).toBeCloseTo(expected[0]!, 4);
    expect(gMu[1]).toBeCloseTo(expected[1]!, 4);
    // the negatives moved away from the data (k = 5 MALA steps ran)
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(neg!, x))).dataSync()[0]!)).toBeGreaterThan(0.1);
    tf.dispose([x, neg!, value]);
    tf.dispose(grads);
    energy.dispose();
  });

  it('works inside optimizer.minimize and reports E⁺ and E⁻', () => {
    const energy = new GaussianEnergy(2);
    const loss = new ContrastiveDivergence(energy, { sampler: new Mala(energy, 0.1), k: 3, energyL2: 0.01 });
    const x = tf.add(randomNormal(rngKey(9), [128, 2]), 2) as tf.Tensor2D;
    const opt = tf.train.sgd(0.05);
    const mu0 = energy.mean();
    let metrics: Record<string, unknown> = {};
    for (let i = 0; i < 5; i++) {
      const c = opt.minimize(() => {
        const out = loss.compute(x);
        metrics = out.metrics;
        return out.loss;
      }, true);
      c?.dispose();
    }
    expect(Object.keys(metrics).sort()).toEqual(['energyNeg', 'energyPos', 'loss']);
    // μ moves towards the data mean (2, 2)
    const mu1 = energy.mean();
    expect(mu1[0]!).toBeGreaterThan(mu0[0]! + 0.05);
    expect(mu1[1]!).toBeGreaterThan(mu0[1]! + 0.05);
    x.dispose();
    opt.dispose();
    energy.dispose();
  });

  it('is reproducible for a key and varies with it', () => {
    const energy = new GaussianEnergy(2);
    const loss = new ContrastiveDivergence(energy, {
      sampler: new Mala(energy, 0.1),
      k: 2,
      positiveNoise: 0.01,
    });
    const x = randomNormal(rngKey(1), [16, 2]) as tf.Tensor2D;
    const a = loss.compute(x, { key: rngKey(5) });
    const b = loss.compute(x, { key: rngKey(5) });
    const c = loss.compute(x, { key: rngKey(6) });
    expect(Array.from(a.negatives!.dataSync())).toEqual(Array.from(b.negatives!.dataSync()));
    expect(Array.from(a.negatives!.dataSync())).not.toEqual(Array.from(c.negatives!.dataSync()));
    tf.dispose([x, a.loss, a.negatives!, b.loss, b.negatives!, c.loss, c.negatives!]);
    energy.dispose();
  });

  it('rejects bad options with clear errors', () => {
    const energy = new GaussianEnergy(2);
    const sampler = new Mala(energy, 0.1);
    const bad = [
      () => new ContrastiveDivergence(energy, { sampler, k: 0 }),
      () => new ContrastiveDivergence(energy, { sampler: {} as never }),
      () => new ContrastiveDivergence(energy, { sampler, energyL2: -1 }),
      () => new PersistentContrastiveDivergence(energy, { sampler, buffer: { reinitProbability: 2 } }),
      () => new ContrastiveDivergence(energy, null as never),
      () => new ContrastiveDivergence({} as never, { sampler }),
    ];
    for (const f of bad) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e, 'INVALID_PARAM')).toBe(true);
      }
    }
    const loss = new ContrastiveDivergence(energy, { sampler });
    const x3 = tf.zeros([4, 3]) as tf.Tensor2D;
    expect(() => loss.compute(x3)).toThrow(/SHAPE_MISMATCH/);
    x3.dispose();
    energy.dispose();
  });

  it('withoutTape / stopGradient cut the gradient', () => {
    const v = tf.variable(tf.scalar(2));
    const { grads, value } = tf.variableGrads(() => {
      const a = tf.mul(v, v); // d/dv = 2v = 4
      const b = withoutTape(() => tf.mul(v, 10)); // constant
      const c = stopGradient(tf.mul(v, 3));
      return tf.add(a, tf.add(b, c)) as tf.Scalar;
    }, [v]);
    expect(grads[v.name]!.dataSync()[0]).toBeCloseTo(4, 6);
    expect(value.dataSync()[0]).toBeCloseTo(4 + 20 + 6, 5);
    tf.dispose([v, value]);
    tf.dispose(grads);
  });
});

describe('replay buffer', () => {
  it('draws stratified indices and re-initialises each row with probability p', () => {
    // Re-initialised rows over many draws are Binomial(n, p): se = √(p(1−p)/n); false-fail rate 1e-4.
    const seed = testSeed('buffer-reinit');
    const buf = new ReplayBuffer({ capacity: 1000, reinitProbability: 0.2, init: 'normal' });
    buf.fill(2, rngKey(seed));
    let re = 0;
    let total = 0;
    for (let i = 0; i < 40; i++) {
      const d = buf.draw(100, foldIn(rngKey(seed), i));
      // stratum i holds rows [10 i, 10 i + 10)
      d.indices.forEach((ix, r) => {
        expect(ix).toBeGreaterThanOrEqual(10 * r);
        expect(ix).toBeLessThan(10 * r + 10);
      });
      re += d.reinitialised;
      total += 100;
      d.start.dispose();
    }
    expectWithinStandardError(re / total, 0.2, Math.sqrt((0.2 * 0.8) / total), { seed });
    buf.dispose();
  });

  it('re-initialised rows are fresh noise, the others are buffer rows', () => {
    const buf = new ReplayBuffer({
      capacity: 8,
      reinitProbability: 0.5,
      init: 'uniform',
      initScale: 1,
      initMean: 100,
    });
    buf.fill(1, rngKey(1));
    // overwrite the buffer with zeros so buffer rows and noise rows are told apart
    const z = tf.zeros([8, 1]) as tf.Tensor2D;
    buf.push(z);
    z.dispose();
    const d = buf.draw(8, rngKey(2));
    const v = Array.from(d.start.dataSync());
    const fromNoise = v.filter((x) => x >= 99 && x <= 101).length;
    expect(fromNoise).toBe(d.reinitialised);
    expect(v.filter((x) => x === 0).length).toBe(8 - d.reinitialised);
    d.start.dispose();
    buf.dispose();
  });

  it('updates FIFO and round-trips through save/load', async () => {
    const buf = new ReplayBuffer({ capacity: 5, reinitProbability: 0 });
    buf.fill(1, rngKey(0));
    const push = (vals: number[]) => {
      const t = tf.tensor2d(vals, [vals.length, 1]);
      buf.push(t);
      t.dispose();
    };
    push([1, 2, 3]);
    push([4, 5, 6]); // wraps: 6 overwrites row 0
    const rows = () => {
      const c = buf.contents();
      const out = Array.from(c.dataSync());
      c.dispose();
      return out;
    };
    expect(rows()).toEqual([6, 2, 3, 4, 5]);
    push([7, 8, 9, 10, 11, 12, 13]); // batch ≥ capacity: the last 5
    expect(rows()).toEqual([9, 10, 11, 12, 13]);
    push([14]);
    const saved = JSON.parse(JSON.stringify(await buf.save()));
    const other = new ReplayBuffer({ capacity: 5, reinitProbability: 0 });
    other.load(saved);
    const c = other.contents();
    expect(Array.from(c.dataSync())).toEqual([14, 10, 11, 12, 13]);
    c.dispose();
    expect(other.totalWrites).toBe(buf.totalWrites);
    expect(() => new ReplayBuffer({ capacity: 6 }).load(saved)).toThrow(/capacity/);
    buf.dispose();
    other.dispose();
  });

  it('PCD fills the buffer once (with burn-in), writes the negatives back and does not leak', () => {
    const energy = new GaussianEnergy(2);
    const loss = new PersistentContrastiveDivergence(energy, {
      sampler: new Mala(energy, 0.1),
      k: 2,
      buffer: { capacity: 64, burnInSteps: 3 },
    });
    const x = randomNormal(rngKey(4), [16, 2]) as tf.Tensor2D;
    const out = loss.compute(x, { key: rngKey(1) });
    expect(loss.buffer.initialized).toBe(true);
    expect(loss.buffer.totalWrites).toBe(16);
    const contents = loss.buffer.contents();
    // the first 16 rows are the negatives just returned (FIFO from pointer 0)
    const head = tf.slice(contents, [0, 0], [16, 2]);
    expect(Array.from(head.dataSync())).toEqual(Array.from(out.negatives!.dataSync()));
    tf.dispose([head, contents, out.loss, out.negatives!]);
    expectNoLeaksSync(() => loss.compute(x), { label: 'PCD compute' });
    loss.dispose();
    x.dispose();
    energy.dispose();
  });

  it('PT-CD uses the coldest chain and rejects samplers that return another shape', () => {
    const energy = new GaussianEnergy(2);
    const loss = new ParallelTemperingCD(energy, {
      sampler: new ReplicaExchange(energy, 0.1, [1, 2]),
      k: 2,
      persistent: false,
    });
    const x = randomNormal(rngKey(4), [8, 2]) as tf.Tensor2D;
    const out = loss.compute(x);
    expect(out.negatives!.shape).toEqual([8, 2]);
    tf.dispose([out.loss, out.negatives!]);
    expectNoLeaksSync(() => loss.compute(x), { label: 'PT-CD compute' });
    const wrong = {
      name: 'Wrong',
      energy,
      sampleSync: () => ({ samples: tf.zeros([3, 2]) }),
    } as never;
    const bad = new ParallelTemperingCD(energy, { sampler: wrong, persistent: false });
    expect(() => bad.compute(x)).toThrow(/coldest chain/);
    x.dispose();
    energy.dispose();
  });
});
