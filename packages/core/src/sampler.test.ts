import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { BaseEnergy } from './energy.js';
import { EbmError } from './errors.js';
import { type RngKey, rngKey } from './rng.js';
import { BaseSampler, disposeSampleResult, type SamplerState, type StepResult } from './sampler.js';
import { expectNoLeaks } from './testing/leaks.js';

class Quadratic extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1));
  }
}

/** Deterministic x' = x + 1 with a [B, 3] info field; optional whole-chain fast path x' = x + n. */
class Shift extends BaseSampler {
  wholeCalls = 0;
  constructor(readonly fast: boolean) {
    super(new Quadratic({ dim: 2 }), 'Shift');
  }
  protected initState(x: tf.Tensor2D, step: number): SamplerState {
    return { x, step };
  }
  step(state: SamplerState, _key: RngKey): StepResult<SamplerState> {
    const x = tf.add(state.x, 1) as tf.Tensor2D;
    const pairs = tf.tidy(() => tf.tile(tf.tensor2d([[0, 1, 2]]), [state.x.shape[0], 1]));
    return { state: { x, step: state.step + 1 }, info: { pairs } };
  }
  protected override runWholeChain(
    state: SamplerState,
    nSteps: number,
    _runKey: RngKey,
  ): SamplerState | undefined {
    if (!this.fast) return undefined;
    this.wholeCalls++;
    return { x: tf.add(state.x, nSteps) as tf.Tensor2D, step: state.step + nSteps };
  }
}

describe('BaseSampler extensions', () => {
  it('uses runWholeChain for plain runs; a whole chain that ignores a record request falls back to the steps', async () => {
    const s = new Shift(true);
    const x0 = tf.zeros([2, 2]) as tf.Tensor2D;
    const events: number[] = [];
    const r = await expectNoLeaks(() =>
      s.sampleSync({ x0, nSteps: 5, burnIn: 2, onProgress: (e) => events.push(e.step) }),
    );
    // With onProgress the whole chain runs in segments (≤ 16; here 7 of one step), each reporting progress:
    // 7 calls per run × 2 runs (warm-up of expectNoLeaks + measured).
    expect(s.wholeCalls).toBe(14);
    expect(events.slice(-7)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.stepsRun).toBe(7);
    const r2 = s.sampleSync({ x0, nSteps: 5, burnIn: 2, keepState: true }); // one call without progress
    expect(Array.from(r2.samples.dataSync())).toEqual([7, 7, 7, 7]);
    expect(r2.finalState!.step).toBe(7);
    // Diagnostics: runWholeChain gets a request; a bare state back (no records) is discarded for the step loop.
    const r3 = s.sampleSync({ x0, nSteps: 3, diagnostics: true });
    expect(s.wholeCalls).toBe(16);
    expect(Object.keys(r3.diagnostics!).sort()).toEqual(['energy', 'mean', 'pairs', 'var']);
    expect(Array.from(r3.samples.dataSync())).toEqual([3, 3, 3, 3]);
    [r2, r3].forEach(disposeSampleResult);
    x0.dispose();
  });

  it('averages [B, K] info fields over chains into [nKept, K] diagnostics', () => {
    const s = new Shift(false);
    const r = s.sampleSync({
      nSamples: 4,
      nSteps: 6,
      thin: 2,
      diagnostics: true,
      trajectory: { fields: ['pairs'] },
    });
    expect(r.diagnostics!.pairs!.shape).toEqual([3, 3]);
    expect(Array.from(r.diagnostics!.pairs!.dataSync())).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(r.trajectory!.pairs!.shape).toEqual([4, 3, 3]);
    disposeSampleResult(r);
  });

  it('validates convergence length and resumeFrom', () => {
    const s = new Shift(false);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof EbmError ? `${e.code}:${e.argument}` : String(e);
      }
      return 'none';
    };
    expect(code(() => s.sampleSync({ nSamples: 2, nSteps: 7, diagnostics: { convergence: true } }))).toBe(
      'INVALID_PARAM:diagnostics.convergence',
    );
    expect(code(() => s.sampleSync({ resumeFrom: null as never, nSteps: 2 }))).toBe(
      'INVALID_PARAM:resumeFrom',
    );
    const x = tf.zeros([2, 2]) as tf.Tensor2D;
    x.dispose();
    expect(code(() => s.sampleSync({ resumeFrom: { x, step: 0 }, nSteps: 2 }))).toBe(
      'STATE_ERROR:resumeFrom.x',
    );
    const y = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(code(() => s.sampleSync({ resumeFrom: { x: y, step: -1 }, nSteps: 2 }))).toBe(
      'INVALID_PARAM:resumeFrom.step',
    );
    // resumeFrom is copied, never disposed
    const r = s.sampleSync({ resumeFrom: { x: y, step: 3 }, nSteps: 2, seed: rngKey(1) });
    expect(y.isDisposed).toBe(false);
    expect(Array.from(r.samples.dataSync())).toEqual([2, 2, 2, 2]);
    disposeSampleResult(r);
    y.dispose();
  });
});
