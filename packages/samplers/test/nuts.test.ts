import { disposeSampleResult, rngKey } from '@ebm/core';
import { expectNoLeaks, expectTargetConservation, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { leafCheckpoints, NUTS } from '../src/index.js';
import { oneStep, torchEbmGaussian } from './helpers.js';
import { expectMomentsWithinMcse } from './mcse.js';

const g = torchEbmGaussian();

describe('NUTS', () => {
  it('leaf checkpoints follow NumPyro (6 → [3, 2]: no check, 7 → [0, 2], 13 → [2, 2])', () => {
    expect(leafCheckpoints(0)).toEqual([1, 0]);
    expect(leafCheckpoints(1)).toEqual([0, 0]);
    expect(leafCheckpoints(6)).toEqual([3, 2]);
    expect(leafCheckpoints(7)).toEqual([0, 2]);
    expect(leafCheckpoints(13)).toEqual([2, 2]);
  });

  it('leaves the correlated Gaussian invariant (one-step conservation, false-fail rate 1e-4)', () => {
    const seed = testSeed('nuts-conservation');
    const rep = expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new NUTS(g, { stepSize: 0.5 })),
      key: rngKey(seed),
      n: 10_000,
      minMovedFraction: 0.5,
      label: 'NUTS',
      seed,
    });
    expect(rep.movedFraction).toBeGreaterThan(0.5);
  });

  it('with a diagonal mass and a large step also conserves the target', () => {
    const seed = testSeed('nuts-conservation-mass');
    expectTargetConservation({
      sampleTarget: (n, k) => g.sample(n, k),
      step: oneStep(new NUTS(g, { stepSize: 1.1, mass: [1, 0.5], maxTreeDepth: 4 })),
      key: rngKey(seed),
      n: 10_000,
      minMovedFraction: 0.5,
      label: 'NUTS diag mass',
      seed,
    });
  });

  it('matches mean and covariance within Monte-Carlo standard errors (ESS-based)', () => {
    expectMomentsWithinMcse(new NUTS(g, { stepSize: 0.5 }), g, 'NUTS', testSeed('nuts-mcse'), {
      nSteps: 200,
      burnIn: 30,
    });
  });

  it('reports tree statistics and does not leak', async () => {
    const s = new NUTS(g, { stepSize: 0.4 });
    const r = await expectNoLeaks(() =>
      s.sampleSync({
        nSamples: 8,
        nSteps: 10,
        seed: 1,
        diagnostics: true,
        trajectory: { fields: ['treeDepth'] },
      }),
    );
    void r;
    const r2 = s.sampleSync({ nSamples: 8, nSteps: 10, seed: 1, diagnostics: true });
    const depth = r2.diagnostics!.treeDepth!.dataSync();
    expect(depth.every((d) => d >= 1 && d <= 10)).toBe(true);
    expect(r2.diagnostics!.divergent!.dataSync().every((v) => v === 0)).toBe(true);
    const acc = r2.diagnostics!.acceptProb!.dataSync();
    expect(acc.every((v) => v > 0 && v <= 1)).toBe(true);
    tf.dispose([r2.samples, ...Object.values(r2.diagnostics!)]);
  });

  it('stepAsync equals step, and the async run loop equals sampleSync, without leaks', async () => {
    const s = new NUTS(g, { stepSize: 0.4, maxTreeDepth: 5 });
    const x0 = tf.randomNormal([6, 2], 0, 1, 'float32', 3) as tf.Tensor2D;
    const st = s.init(x0);
    const a = s.step(st, rngKey(11));
    const b = await s.stepAsync(st, rngKey(11));
    expect(Array.from(b.state.x.dataSync())).toEqual(Array.from(a.state.x.dataSync()));
    expect(Object.keys(b.info).sort()).toEqual(Object.keys(a.info).sort());
    for (const k of Object.keys(a.info))
      expect(Array.from(b.info[k]!.dataSync())).toEqual(Array.from(a.info[k]!.dataSync()));
    for (const r of [a, b]) {
      s.disposeState(r.state);
      tf.dispose(Object.values(r.info));
    }
    await expectNoLeaks(async () => {
      const r = await s.stepAsync(st, rngKey(12));
      return [r.state, r.info];
    });
    s.disposeState(st);
    x0.dispose();
    const opts = {
      nSamples: 4,
      nSteps: 12,
      burnIn: 2,
      thin: 1,
      seed: 5,
      diagnostics: { convergence: true },
      trajectory: { fields: ['x', 'treeDepth'] },
    } as const;
    const sync = s.sampleSync(opts);
    const viaAsync = await expectNoLeaks(() => s.sample(opts), { keepOutputs: true });
    expect(Array.from(viaAsync.samples.dataSync())).toEqual(Array.from(sync.samples.dataSync()));
    expect(Array.from(viaAsync.trajectory!.treeDepth!.dataSync())).toEqual(
      Array.from(sync.trajectory!.treeDepth!.dataSync()),
    );
    expect(Object.keys(viaAsync.diagnostics!).sort()).toEqual(Object.keys(sync.diagnostics!).sort());
    expect(viaAsync.convergence!.rhat).toEqual(sync.convergence!.rhat);
    disposeSampleResult(sync);
    disposeSampleResult(viaAsync);
  });
});
