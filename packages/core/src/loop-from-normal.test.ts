import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { randomNormal } from './kernels.js';
import { type SamplingKernel, sampleChain, sampleChainSync } from './loop.js';
import { foldIn, type RngKey, rngKey } from './rng.js';
import type { SamplerState } from './sampler.js';
import { expectNoLeaks } from './testing/leaks.js';

/**
 * A kernel whose whole chain adds nSteps to x, with a `wholeChainFromNormal` that draws x0 itself (or declines
 * with `undefined`); calls are logged.
 */
function fake(decline: boolean) {
  const calls: string[] = [];
  const kernel: SamplingKernel<SamplerState> = {
    name: 'fake',
    dim: 3,
    init: (x0, t = 0) => ({ x: tf.clone(x0), step: t }),
    step: (s) => ({ state: { x: tf.add(s.x, 1) as tf.Tensor2D, step: s.step + 1 }, info: {} }),
    wholeChain: (s, n) => {
      calls.push('wholeChain');
      return { x: tf.add(s.x, n) as tf.Tensor2D, step: s.step + n };
    },
    wholeChainFromNormal: (shape, x0Key: RngKey, n) => {
      calls.push(`fromNormal ${shape.join('x')}`);
      if (decline) return undefined;
      return tf.tidy(() => ({ x: tf.add(randomNormal(x0Key, [...shape]), n) as tf.Tensor2D, step: n }));
    },
  };
  return { kernel, calls };
}

describe('SamplingKernel.wholeChainFromNormal', () => {
  it('runs a fresh plain run in one call with the loop x0 key; the same numbers as the draw + wholeChain', async () => {
    const a = fake(false);
    const b = fake(true);
    for (const sync of [false, true]) {
      a.calls.length = 0;
      b.calls.length = 0;
      const opts = { nSamples: 5, nSteps: 7, seed: 3 };
      const ra = sync ? sampleChainSync(a.kernel, opts) : await sampleChain(a.kernel, opts);
      const rb = sync ? sampleChainSync(b.kernel, opts) : await sampleChain(b.kernel, opts);
      expect(a.calls).toEqual(['fromNormal 5x3']);
      expect(b.calls).toEqual(['fromNormal 5x3', 'wholeChain']); // declined: x0 drawn, then the whole chain
      expect(Array.from(await ra.samples.data())).toEqual(Array.from(await rb.samples.data()));
      const x0 = randomNormal(foldIn(rngKey(3), Number.MAX_SAFE_INTEGER), [5, 3]);
      const want = tf.add(x0, 7);
      expect(Array.from(await ra.samples.data())).toEqual(Array.from(await want.data()));
      tf.dispose([ra.samples, rb.samples, x0, want]);
    }
  });

  it('is not asked for runs with x0, resumeFrom, progress, a signal, a trace or recorded steps; leaks nothing', async () => {
    const a = fake(false);
    const x0 = tf.zeros([2, 3]) as tf.Tensor2D;
    const errors: string[] = [];
    const resumeFrom = { x: tf.zeros([2, 3]) as tf.Tensor2D, step: 4 };
    const runs: Record<string, unknown>[] = [
      { x0, nSteps: 4 },
      { resumeFrom, nSteps: 4 },
      { nSamples: 2, nSteps: 4, onProgress: () => {} },
      { nSamples: 2, nSteps: 4, signal: new AbortController().signal },
      { nSamples: 2, nSteps: 4, trace: (s: SamplerState) => ({ m: tf.mean(s.x) }) },
      { nSamples: 2, nSteps: 4, trajectory: true },
      { nSamples: 2, nSteps: 4, diagnostics: true },
      { nSamples: 2, dim: 4, nSteps: 4 }, // dim ≠ kernel.dim: left to init (a sampler's init rejects it)
    ];
    for (const o of runs) {
      a.calls.length = 0;
      await expectNoLeaks(async () => {
        let r: Awaited<ReturnType<typeof sampleChain>>;
        try {
          r = await sampleChain(a.kernel, o as never);
        } catch (e) {
          errors.push(String(e).slice(0, 60));
          return;
        }
        tf.dispose([r.samples, ...Object.values(r.trajectory ?? {}), ...Object.values(r.diagnostics ?? {})]);
        tf.dispose(Object.values(r.traces ?? {}));
      });
      expect(
        a.calls.filter((c) => c.startsWith('fromNormal')),
        JSON.stringify(Object.keys(o)),
      ).toEqual([]);
    }
    // Every run ran (on the usual path); none was an error.
    expect(errors).toEqual([]);
    tf.dispose([x0, resumeFrom.x]);
  });

  it('an error thrown by it reaches the caller and leaks nothing', async () => {
    const kernel: SamplingKernel<SamplerState> = {
      ...fake(false).kernel,
      wholeChainFromNormal: () => {
        throw new Error('boom');
      },
    };
    await expectNoLeaks(async () => {
      await expect(sampleChain(kernel, { nSamples: 2, nSteps: 3 })).rejects.toThrow('boom');
    });
  });
});
