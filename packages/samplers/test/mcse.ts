import { mcseMean } from '@ebm/core';
import { expectWithinStandardError } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import type { MHInfo, MHSampler } from '../src/index.js';
import type { TestGaussian } from './helpers.js';

/** MCSE test of mean, variances and covariance of the correlated Gaussian from B chains (BlackJAX-style). */
export function expectMomentsWithinMcse<I extends MHInfo>(
  sampler: MHSampler<I>,
  target: TestGaussian,
  label: string,
  seed: number,
  { nSteps = 400, burnIn = 100 }: { nSteps?: number; burnIn?: number } = {},
) {
  const B = 64;
  const r = sampler.sampleSync({ nSamples: B, nSteps, burnIn, seed, trajectory: true });
  const t = r.trajectory!.x!;
  const n = t.shape[1]!;
  const a = t.dataSync();
  tf.dispose([t, r.samples]);
  const chains = (f: (x0: number, x1: number) => number) =>
    Array.from({ length: B }, (_, c) =>
      Float64Array.from({ length: n }, (_, k) => f(a[(c * n + k) * 2]!, a[(c * n + k) * 2 + 1]!)),
    );
  const [m0, m1] = target.mu as [number, number];
  const S = target.cov;
  const quantities: [string, (x0: number, x1: number) => number, number][] = [
    ['mean x0', (x0) => x0, m0],
    ['mean x1', (_, x1) => x1, m1],
    ['var x0', (x0) => (x0 - m0) ** 2, S[0]![0]!],
    ['var x1', (_, x1) => (x1 - m1) ** 2, S[1]![1]!],
    ['cov x0 x1', (x0, x1) => (x0 - m0) * (x1 - m1), S[0]![1]!],
  ];
  for (const [name, f, truth] of quantities) {
    const ch = chains(f);
    const est = ch.reduce((s, c) => s + c.reduce((u, v) => u + v, 0), 0) / (B * n);
    expectWithinStandardError(est, truth, mcseMean(ch), {
      falseFailRate: 1e-4 / quantities.length,
      label: `${label} ${name}`,
      seed,
    });
  }
}
