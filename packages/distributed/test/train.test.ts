import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../src/index.js';
import registry from './fixtures/registry.mjs';

// A training job killed mid-way resumes from its last `fit` checkpoint (as JSON from Redis) and returns the
// same result as an uninterrupted run.

const config = {
  dataset: { kind: 'twoMoons' },
  energy: { kind: 'mlp' },
  sampler: { kind: 'langevin', params: { stepSize: 0.01 } },
  loss: { kind: 'pcd', params: { k: 2, buffer: { capacity: 64 } } },
  optimizer: { kind: 'adam', learningRate: 0.003 },
  steps: 12,
  batchSize: 32,
  checkpointEvery: 4,
};

async function train(resumeFrom?: JsonValue, saved: JsonValue[] = []) {
  return registry.trainers.fit!({
    job: { type: 'train', runId: 'r', index: 0, trainer: 'fit', config, seed: 3 },
    config,
    seed: 3,
    resumeFrom,
    checkpoint: async (c) => void saved.push(JSON.parse(JSON.stringify(c))),
    progress: () => {},
    signal: new AbortController().signal,
    backend: 'cpu',
    registry,
  });
}

describe('fitTrainer', () => {
  it('resumes from a checkpoint to the result of an uninterrupted run', async () => {
    const saved: JsonValue[] = [];
    const full = await train(undefined, saved);
    expect(full.steps).toBe(12);
    const mid = saved.find((c) => (c as { fit: { step: number } }).fit.step === 8)!;
    expect(mid).toBeDefined();
    const resumed = await train(mid);
    expect(resumed.resumedFrom).toBe(8);
    expect(resumed.lossCurve).toEqual(full.lossCurve);
    expect(resumed.finalLoss).toBe(full.finalLoss);
  });

  it('rejects a malformed checkpoint with a clear error', async () => {
    await expect(train({ fit: {}, losses: 'x' })).rejects.toThrow(/checkpoint\.losses/);
  });
});
