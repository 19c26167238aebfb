import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomNormal } from '../kernels.js';
import { rngKey } from '../rng.js';
import { runChainParallel, setSharedChainMemory, terminateChainWorkers } from './pool.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => terminateChainWorkers());

const [B, D] = [203, 3]; // odd D: blocks and tiles must keep the SIMD alignment (r·D ≡ 0 mod 4) or fall back
const params = { barrierHeight: 2, b: 1 };
const bits = (a: Float32Array | Float64Array | undefined) => (a === undefined ? [] : Array.from(a));

describe('runChainParallel: shared memory and transferred blocks, x0 drawn by the workers', () => {
  it.each([
    ['langevin', { stepSize: 0.01, noiseScale: 1 }, 12],
    ['mala', { stepSize: 0.05 }, 6],
  ] as const)('%s: the same numbers for every path and worker count', async (method, settings, nSteps) => {
    const key = rngKey(5);
    const x0Key = rngKey(6);
    const x0 = randomNormal(x0Key, [B, D]) as tf.Tensor2D;
    const run = async (workers: number, drawn: boolean) => {
      const r = await runChainParallel({
        kind: 'doubleWell',
        params,
        method,
        settings,
        x0: drawn ? { normal: x0Key, shape: [B, D] } : x0,
        nSteps,
        key,
        startStep: 2,
        workers,
      });
      const x = (await r.x.data()) as Float32Array;
      r.x.dispose();
      return { x: bits(x), acc: bits(r.acceptanceRate), timings: r.timings };
    };
    const ref = await run(0, false);
    expect(ref.timings.shared).toBe(false);
    for (const shared of [true, false]) {
      const was = setSharedChainMemory(shared);
      try {
        for (const workers of [0, 1, 3]) {
          for (const drawn of [false, true]) {
            const r = await run(workers, drawn);
            expect(r.x, `shared ${shared}, ${workers} workers, drawn ${drawn}`).toEqual(ref.x);
            expect(r.acc).toEqual(ref.acc);
            expect(r.timings.shared).toBe(shared && workers > 0);
            expect(r.timings.computeMs.length).toBe(workers);
            if (shared && workers > 0) {
              // Every tile done exactly once.
              expect(r.timings.tiles.reduce((a, b) => a + b, 0)).toBe(Math.ceil(B / 64));
            }
          }
        }
      } finally {
        setSharedChainMemory(was);
      }
    }
    x0.dispose();
  });

  it('rejects a bad x0 spec with a clear EbmError', async () => {
    const base = { kind: 'doubleWell', params, method: 'langevin', settings: { stepSize: 0.1 }, nSteps: 1 };
    const key = rngKey(1);
    await expect(
      runChainParallel({ ...base, key, x0: { normal: [1, -1] as unknown as typeof key, shape: [4, 2] } }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAM', argument: 'x0.normal' });
    await expect(
      runChainParallel({ ...base, key, x0: { normal: key, shape: [4, 0] } }),
    ).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', argument: 'x0.shape' });
  });
});
