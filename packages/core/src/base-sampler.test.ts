import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { BaseEnergy } from './energy.js';
import { randomNormal } from './kernels.js';
import { type RngKey, rngKey } from './rng.js';
import {
  BaseSampler,
  disposeSampleResult,
  disposeStateExcept,
  type SamplerState,
  type StepResult,
  stateTensors,
} from './sampler.js';
import { LinearScheduler } from './schedulers.js';
import { expectNoLeaks } from './testing/leaks.js';
import { testSeed } from './testing/seed.js';
import { expectMean, expectVariance } from './testing/stats.js';

/** E(x) = ½‖x‖² (standard normal target). */
class StdNormal extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1));
  }
}

interface ArState extends SamplerState {
  readonly energy: tf.Tensor1D;
}

/** Exact autoregressive kernel x' = ρx + √(1−ρ²)ξ, which leaves N(0, I) invariant; ρ may be scheduled. */
class ArSampler extends BaseSampler<ArState> {
  constructor(rho: number | LinearScheduler = 0.5) {
    super(new StdNormal({ dim: 2 }), 'ArSampler');
    this.schedule('rho', rho);
  }
  protected initState(x: tf.Tensor2D, step: number): ArState {
    return { x, step, energy: this.energy.energy(x, { checkFinite: false }) };
  }
  step(state: ArState, key: RngKey): StepResult<ArState> {
    const rho = this.scheduled('rho', state.step);
    const x = tf.tidy(() => {
      const xi = randomNormal(key, state.x.shape);
      return tf.add(tf.mul(state.x, rho), tf.mul(xi, Math.sqrt(1 - rho * rho))) as tf.Tensor2D;
    });
    const energy = this.energy.energy(x, { checkFinite: false });
    const moved = tf.tidy(() => tf.cast(tf.notEqual(tf.sum(tf.sub(x, state.x), 1), 0), 'float32'));
    return { state: { x, step: state.step + 1, energy }, info: { moved } };
  }
}

const x0 = () =>
  tf.tensor2d([
    [3, -3],
    [0, 0],
    [1, 2],
  ]);

describe('BaseSampler run loop', () => {
  it('samples the target (MC standard-error tests, false-fail rate 1e-4 each)', async () => {
    const s = new ArSampler(0.3);
    const seed = testSeed('base-sampler-target');
    const r = await s.sample({ nSamples: 4000, nSteps: 20, seed });
    const v = r.samples.dataSync();
    const c0 = Array.from({ length: 4000 }, (_, i) => v[2 * i]!);
    const c1 = Array.from({ length: 4000 }, (_, i) => v[2 * i + 1]!);
    expectMean(c0, 0, { seed });
    expectMean(c1, 0, { seed });
    expectVariance(c0, 1, { seed });
    expectVariance(c1, 1, { seed });
    disposeSampleResult(r);
  });
  it('records trajectories, diagnostics and convergence with the documented shapes', () => {
    const s = new ArSampler(0.5);
    const start = x0();
    const r = s.sampleSync({
      x0: start,
      nSteps: 20,
      thin: 2,
      burnIn: 3,
      trajectory: { fields: ['x', 'energy', 'moved'] },
      diagnostics: { convergence: true },
      seed: 1,
    });
    expect(r.nKept).toBe(10);
    expect(r.stepsRun).toBe(23);
    expect(r.samples.shape).toEqual([3, 2]);
    expect(r.trajectory!.x!.shape).toEqual([3, 10, 2]);
    expect(r.trajectory!.energy!.shape).toEqual([3, 10]);
    expect(r.trajectory!.moved!.shape).toEqual([3, 10]);
    expect(r.diagnostics!.mean!.shape).toEqual([10, 2]);
    expect(r.diagnostics!.var!.shape).toEqual([10, 2]);
    expect(r.diagnostics!.energy!.shape).toEqual([10]);
    expect(Array.from(r.diagnostics!.moved!.dataSync())).toEqual(new Array(10).fill(1));
    expect(r.convergence!.rhat.length).toBe(2);
    expect(r.convergence!.essBulk[0]).toBeGreaterThan(0);
    // the last trajectory entry is the final state; x0 is untouched
    const last = tf.tidy(() => tf.squeeze(tf.slice(r.trajectory!.x!, [0, 9, 0], [3, 1, 2]), [1]));
    expect(Array.from(last.dataSync())).toEqual(Array.from(r.samples.dataSync()));
    expect(Array.from(start.dataSync())).toEqual([3, -3, 0, 0, 1, 2]);
    tf.dispose([last, start]);
    disposeSampleResult(r);
  });
  it('is deterministic for a seed and differs across seeds', () => {
    const s = new ArSampler();
    const a = s.sampleSync({ nSamples: 5, dim: 2, nSteps: 4, seed: 9 });
    const b = s.sampleSync({ nSamples: 5, dim: 2, nSteps: 4, seed: 9 });
    const c = s.sampleSync({ nSamples: 5, dim: 2, nSteps: 4, seed: 10 });
    expect(Array.from(a.samples.dataSync())).toEqual(Array.from(b.samples.dataSync()));
    expect(Array.from(a.samples.dataSync())).not.toEqual(Array.from(c.samples.dataSync()));
    [a, b, c].forEach(disposeSampleResult);
  });
  it('resumes bit-identically from a kept state and from a saved checkpoint; schedulers follow state.step', async () => {
    const s = new ArSampler(new LinearScheduler(0.9, 0.1, 10));
    const whole = s.sampleSync({ x0: x0(), nSteps: 12, seed: 4 });
    const first = s.sampleSync({ x0: x0(), nSteps: 5, seed: 4, keepState: true });
    expect(first.finalState!.step).toBe(5);
    const saved = await s.saveState(first.finalState!);
    const json = JSON.parse(JSON.stringify(saved));
    const resumed = s.sampleSync({ resumeFrom: first.finalState!, nSteps: 7, seed: 4 });
    const restored = s.loadState(json);
    const resumed2 = s.sampleSync({ resumeFrom: restored, nSteps: 7, seed: 4 });
    expect(Array.from(resumed.samples.dataSync())).toEqual(Array.from(whole.samples.dataSync()));
    expect(Array.from(resumed2.samples.dataSync())).toEqual(Array.from(whole.samples.dataSync()));
    s.disposeState(restored);
    [whole, first, resumed, resumed2].forEach(disposeSampleResult);
  });
  it('reports progress and stops on abort with ABORTED, releasing every tensor', async () => {
    const s = new ArSampler();
    const events: number[] = [];
    const r = await s.sample({
      nSamples: 2,
      dim: 2,
      nSteps: 10,
      burnIn: 2,
      progressEvery: 4,
      onProgress: (e) => events.push(e.step),
    });
    expect(events).toEqual([4, 8, 12]);
    disposeSampleResult(r);
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    await expect(
      s.sample({
        nSamples: 2,
        dim: 2,
        nSteps: 50,
        trajectory: true,
        diagnostics: true,
        signal: ac.signal,
        progressEvery: 1,
        onProgress: (e) => {
          if (e.step === 5) ac.abort();
        },
      }),
    ).rejects.toThrowError(/ABORTED/);
    expect(tf.memory().numTensors).toBe(before);
    ac.abort();
    expect(() => s.sampleSync({ nSamples: 2, dim: 2, nSteps: 3, signal: ac.signal })).toThrowError(/ABORTED/);
  });
  it('leaks nothing, whatever is recorded', async () => {
    const s = new ArSampler();
    await expectNoLeaks(() =>
      s.sampleSync({
        nSamples: 4,
        dim: 2,
        nSteps: 6,
        trajectory: { fields: ['x', 'energy'] },
        diagnostics: true,
      }),
    );
    await expectNoLeaks(() => s.sample({ nSamples: 4, dim: 2, nSteps: 6 }));
    await expectNoLeaks(() => s.sampleSync({ nSamples: 4, dim: 2, nSteps: 9, keepState: true }));
  });
  it('rejects bad options with EbmError', () => {
    const s = new ArSampler();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ nSteps: 0, nSamples: 2, dim: 2 }, /nSteps must be an integer >= 1/],
      [{ nSteps: 5, thin: 0, nSamples: 2, dim: 2 }, /thin/],
      [{ nSteps: 5, burnIn: -1, nSamples: 2, dim: 2 }, /burnIn/],
      [{ nSteps: 5, nSamples: 0, dim: 2 }, /nSamples/],
      [{ nSteps: 5, nSamples: 2, dim: 3 }, /SHAPE_MISMATCH/],
      [{ nSteps: 5, nSamples: 2, dim: 2, seed: 1.5 }, /seed/],
      [{ nSteps: 5, nSamples: 2, dim: 2, onProgress: 3 }, /onProgress must be a function/],
      [
        { nSteps: 5, nSamples: 2, dim: 2, trajectory: { fields: ['nope'] } },
        /Unknown trajectory field "nope"/,
      ],
      [{ nSteps: 4, nSamples: 2, dim: 2, diagnostics: { convergence: true } }, /at least 8 kept states/],
      [{ nSteps: 5, x0: tf.tensor2d([[Number.NaN, 1]]) }, /NON_FINITE/],
    ];
    const before = tf.memory().numTensors;
    for (const [o, re] of bad) expect(() => s.sampleSync(o as never)).toThrowError(re);
    // Nothing leaks on these error paths (the unknown trajectory field used to leak the step's info).
    expect(tf.memory().numTensors).toBe(before);
    expect(() => s.sampleSync(null as never)).toThrowError(/options object/);
    expect(() => new ArSampler(-1)).toThrowError(/rho must be > 0/);
    expect(() => new (ArSampler as never as new (e: unknown) => unknown)(null)).toThrow();
    expect(() => s.loadState({} as never)).toThrowError(/saveState/);
  });
});

describe('state helpers', () => {
  it('stateTensors and disposeStateExcept keep pass-through tensors alive', () => {
    const shared = tf.scalar(1);
    const a = tf.scalar(2);
    const b = tf.scalar(3);
    const old = { x: a, m: shared, list: [tf.scalar(4)] };
    const next = { x: b, m: shared };
    expect(stateTensors(old).length).toBe(3);
    disposeStateExcept(old, next);
    expect(a.isDisposed).toBe(true);
    expect(old.list[0]!.isDisposed).toBe(true);
    expect(shared.isDisposed).toBe(false);
    tf.dispose([shared, b]);
  });
  it('disposeSampleResult releases everything once', () => {
    const s = new ArSampler();
    const before = tf.memory().numTensors;
    const r = s.sampleSync({
      nSamples: 2,
      dim: 2,
      nSteps: 3,
      trajectory: true,
      diagnostics: true,
      keepState: true,
    });
    disposeSampleResult(r);
    disposeSampleResult(r);
    expect(tf.memory().numTensors).toBe(before);
    expect(rngKey(0)).toEqual([0, 0]);
  });
});
