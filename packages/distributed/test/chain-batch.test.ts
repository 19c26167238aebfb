import { essBasic, rhatBasic, type SamplingKernel, sampleChain, splitChains } from '@ebm/core';
import { expectNoLeaks, testSeed } from '@ebm/core/testing';
import { DoubleWell } from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  applyCheckpointDelta,
  type ChainBatchJob,
  type ChainCheckpoint,
  concatSummaries,
  defineRegistry,
  mergedStats,
  runChainBatch,
  summarizeDraws,
  withChainOffset,
  x0Rows,
} from '../src/index.js';

// A chain range run alone must give exactly the rows of the full run (host backend: bit-identical), resumed
// from a checkpoint or not, and merged summaries must not depend on the split.

const registry = defineRegistry({
  energies: { doubleWell: (p) => new DoubleWell(p) },
  samplers: {
    langevin: (e, p) => new LangevinDynamics(e, p),
    mala: (e, p) => new MALA(e, p),
    hmc: (e, p) => new HamiltonianMonteCarlo(e, p),
  },
});

const SAMPLERS = [
  { kind: 'langevin', params: { stepSize: 0.05 } },
  { kind: 'mala', params: { stepSize: 0.2 } },
  { kind: 'hmc', params: { stepSize: 0.2, nLeapfrogSteps: 3 } },
] as const;

const N = 10;
const D = 2;
const seed = testSeed('distributed chain batch');

function job(sampler: (typeof SAMPLERS)[number], a: number, b: number, extra: Partial<ChainBatchJob> = {}) {
  return {
    type: 'chains',
    runId: 't',
    index: 0,
    energy: { kind: 'doubleWell', params: { barrierHeight: 1 } },
    sampler: { kind: sampler.kind, params: { ...sampler.params } },
    chainStart: a,
    chainEnd: b,
    dim: D,
    seed,
    nSteps: 16,
    burnIn: 3,
    thin: 2,
    output: 'samples',
    checkpointEvery: 5,
    ...extra,
  } satisfies ChainBatchJob;
}

/** The full single-process run through the sampler's own API, chain-major draws. */
async function fullRun(sampler: (typeof SAMPLERS)[number]): Promise<Float32Array> {
  const energy = new DoubleWell({ barrierHeight: 1 });
  const s = registry.samplers![sampler.kind]!(energy, { ...sampler.params }) as unknown as {
    sample(o: object): Promise<{ samples: tf.Tensor; trajectory?: Record<string, tf.Tensor> }>;
  };
  const r = await s.sample({ nSamples: N, dim: D, seed, burnIn: 3, nSteps: 16, thin: 2, trajectory: true });
  const x = r.trajectory!.x!; // [B, nKept, D]
  const data = (await x.data()) as Float32Array;
  x.dispose();
  r.samples.dispose();
  return data;
}

describe('x0Rows', () => {
  it('equals the rows of the x0 the loop draws for the whole run', async () => {
    const k: SamplingKernel = {
      init: (x0, step = 0) => ({ x: tf.clone(x0), step }),
      step: (s) => ({ state: { x: tf.clone(s.x), step: s.step + 1 }, info: {} }),
    };
    const r = await sampleChain(k, { nSamples: 7, dim: 3, seed, nSteps: 1 });
    const all = await r.samples.data();
    r.samples.dispose();
    const part = x0Rows(seed, 2, 5, 3);
    expect(Array.from(await part.data())).toEqual(Array.from(all.slice(6, 15)));
    part.dispose();
  });
});

describe('runChainBatch', () => {
  for (const sampler of SAMPLERS) {
    it(`${sampler.kind}: chain ranges reproduce the full run exactly, resumed or not`, async () => {
      const full = await fullRun(sampler);
      const nKept = 8;
      const rows = (a: number, b: number) => full.slice(a * nKept * D, b * nKept * D);
      const splits = [
        [0, 3],
        [3, 7],
        [7, 10],
      ] as const;
      const parts = [];
      for (const [a, b] of splits) {
        const r = await expectNoLeaks(() => runChainBatch(registry, job(sampler, a, b)));
        expect(Array.from(r.draws!)).toEqual(Array.from(rows(a, b)));
        parts.push(r.summaries);
      }
      // resume from a mid-run checkpoint (inside the sampling phase) of the middle range
      const saved: ChainCheckpoint[] = [];
      await runChainBatch(registry, job(sampler, 3, 7), {
        onCheckpoint: async (c) => void saved.push(applyCheckpointDelta(saved.at(-1), c)),
      });
      expect(saved.map((c) => c.step)).toEqual([3, 9, 15]); // burn-in, then multiples of thin (checkpointEvery 5 → 6)
      const resumed = await expectNoLeaks(() =>
        runChainBatch(registry, job(sampler, 3, 7), { resumeFrom: JSON.parse(JSON.stringify(saved[1])) }),
      );
      expect(resumed.resumedFrom).toBe(9);
      expect(Array.from(resumed.draws!)).toEqual(Array.from(rows(3, 7)));
      // merged summaries do not depend on the split
      const one = mergedStats(summarizeDraws(full, N, nKept, D));
      const merged = mergedStats(concatSummaries(parts));
      expect(merged).toEqual(one);
    });
  }

  it('split-R̂ and ESS from summaries equal core rhatBasic / essBasic of the split chains', () => {
    const n = 40;
    const m = 3;
    const draws = new Float64Array(m * n);
    let v = 0.3;
    for (let i = 0; i < draws.length; i++) {
      v = 0.7 * v + Math.sin(i * 12.9898) * 0.5; // autocorrelated, deterministic
      draws[i] = v + (i >= 2 * n ? 0.2 : 0);
    }
    const stats = mergedStats(summarizeDraws(draws, m, n, 1));
    const chains = [0, 1, 2].map((c) => Array.from(draws.slice(c * n, (c + 1) * n)));
    expect(stats.rhat[0]).toBeCloseTo(rhatBasic(splitChains(chains)), 12);
    expect(stats.ess[0]).toBeCloseTo(essBasic(splitChains(chains)), 10);
    expect(stats.essTruncated[0]).toBe(false);
  });

  it('a diverged chain gives NaN statistics instead of failing', () => {
    const draws = new Float64Array(2 * 8).map((_, i) => Math.sin(i));
    draws[3] = Number.NaN;
    const stats = mergedStats(summarizeDraws(draws, 2, 8, 1));
    expect(stats.mean[0]).toBeNaN();
    expect(stats.ess[0]).toBeNaN();
  });

  it('restores the random kernels after a batch, also when it throws', async () => {
    const before = tf.tidy(() => tf.randomNormal([2]).shape);
    await expect(
      withChainOffset(3, 4, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(before).toEqual([2]);
    const { listKernels } = await import('@ebm/core');
    const rn = listKernels().find((k) => k.name === 'randomNormal')!;
    expect(rn.backends).not.toContain(tf.getBackend());
  });

  it('rejects a checkpoint that does not fit its job', async () => {
    const saved: ChainCheckpoint[] = [];
    await runChainBatch(registry, job(SAMPLERS[0], 0, 2), {
      onCheckpoint: async (c) => void saved.push(applyCheckpointDelta(saved.at(-1), c)),
    });
    const { parseChainCheckpoint } = await import('../src/index.js');
    expect(() => parseChainCheckpoint({ ...saved[1], kept: 5 }, job(SAMPLERS[0], 0, 2))).toThrow(/kept/);
    expect(() => parseChainCheckpoint({ ...saved[1], draws: 'AAAA' }, job(SAMPLERS[0], 0, 2))).toThrow(
      /floats/,
    );
    await expect(
      runChainBatch(registry, job(SAMPLERS[0], 0, 3), { resumeFrom: saved[1]! as ChainCheckpoint }),
    ).rejects.toThrow(/\[3, 2\]/);
  });
});
