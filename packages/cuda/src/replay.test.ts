import {
  isEbmError,
  normalArray,
  REPLAY_DRAW_KERNEL,
  REPLAY_WRITE_KERNEL,
  type ReplayDrawInputs,
  replayDrawComposite,
  replayDrawPlan,
  replayReinitThreshold,
  replayWriteComposite,
  rngKey,
  runKernel,
} from '@ebm/core';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupWebGpu } from './index.js';
import { replayDrawWebGpu, replayWriteWebGpu } from './replay.js';

// The replay-buffer kernels (replay.draw, replay.write; replay.ts) against core's composites, on lavapipe in CI.
// Exact equality: buffer rows are copies; the noise is the same Philox stream through the same WGSL conversion as
// the webgpu composite (randomUniform / randomNormal), then z·scale + mean — at most 1 ulp apart if the device
// contracts that into a fused multiply-add (checked with a 1-ulp bound where scale ≠ 1).
const { available: gpuOk } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'WebGPU replay-kernel tests',
);

function buffer(cap: number, dim: number, seed = 1): tf.Tensor2D {
  return tf.tensor2d(normalArray(rngKey(seed), [cap, dim]), [cap, dim]);
}

/** Largest |a − b| relative to max(1, |b|). */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

describe.skipIf(!gpuOk)('replay-buffer kernels on webgpu', () => {
  it('the re-initialisation threshold is the host test m < p, also at the edges', () => {
    for (const p of [0, 2 ** -24, 2 ** -23, 0.05, 0.3, 0.5, 1 - 2 ** -24, 1]) {
      const t = replayReinitThreshold(p);
      for (const a of [0, 1, t - 1, t, t + 1, 2 ** 23 - 1]) {
        if (a < 0 || a >= 2 ** 23) continue;
        const m = (a + 0.5) * 2 ** -23; // bitsToUniform of a word with ⌊w/2⁹⌋ = a
        expect(a < t, `p ${p}, a ${a}`).toBe(m < p);
      }
    }
  });

  it('draw: the one-program kernel gives the composite rows (stratified, with replacement, all noise kinds)', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const cases: [number, number, number, number, ReplayDrawInputs['noise']][] = [
      // [capacity, n, dim, p, noise]
      [100, 16, 3, 0.3, { kind: 'uniform', scale: 1, mean: 0 }],
      [101, 16, 2, 0.5, { kind: 'uniform', scale: 2.5, mean: -0.75 }],
      [64, 16, 3, 0.4, { kind: 'normal', scale: 1, mean: 0 }],
      [10, 24, 2, 0.2, { kind: 'normal', scale: 0.5, mean: 1 }], // capacity < n: uniform with replacement
      [50, 50, 1, 0, { kind: 'uniform', scale: 1, mean: 0 }],
      [40, 8, 5, 1, { kind: 'uniform', scale: 1, mean: 0 }],
    ];
    for (const [cap, n, dim, p, noise] of cases) {
      const buf = buffer(cap, dim);
      for (const seed of [3, 4]) {
        const inputs = { buffer: buf, n, key: rngKey(seed), reinitProbability: p, noise };
        const ref = replayDrawComposite(inputs);
        const got = runKernel(REPLAY_DRAW_KERNEL, inputs);
        expect(got.shape).toEqual([n, dim]);
        const [a, b] = [await got.data(), await ref.data()];
        const what = `cap ${cap} n ${n} dim ${dim} p ${p} ${noise.kind} seed ${seed}`;
        const plan = replayDrawPlan(inputs.key, n, cap, p);
        const rows = await buf.data();
        for (let i = 0; i < n; i++) {
          for (let d = 0; d < dim; d++) {
            const k = i * dim + d;
            if (plan.reinit[i] === 0) expect(a[k], what).toBe(rows[plan.indices[i]! * dim + d]);
          }
        }
        // Exact where scale 1 and mean 0 (no rounding after the noise word's conversion), else within 1 ulp.
        if (noise.scale === 1 && noise.mean === 0) expect(Array.from(a), what).toEqual(Array.from(b));
        else expect(maxRel(a, b), what).toBeLessThanOrEqual(2 ** -23);
        tf.dispose([ref, got]);
      }
      buf.dispose();
    }
  });

  it('draw: the stratified index is floor(u·s) exactly, also for large strides', async () => {
    // A capacity with a large stride s = ⌊cap/n⌋ where float32 rounding of u·s would cross integers.
    const cap = 3 * 40_000 + 7;
    const buf = tf.tidy(() => tf.reshape(tf.range(0, cap, 1, 'float32'), [cap, 1]) as tf.Tensor2D);
    const inputs: ReplayDrawInputs = {
      buffer: buf,
      n: 3,
      key: rngKey(9),
      reinitProbability: 0,
      noise: { kind: 'uniform', scale: 1, mean: 0 },
    };
    for (let s = 0; s < 20; s++) {
      const key = rngKey(100 + s);
      const got = replayDrawWebGpu({ ...inputs, key });
      const plan = replayDrawPlan(key, 3, cap, 0);
      expect(Array.from(await got.data())).toEqual(Array.from(plan.indices));
      got.dispose();
    }
    buf.dispose();
  });

  it('write: the one-program ring write equals the composite (wrap-around, B = C, B > C)', async () => {
    for (const [cap, b, ptr] of [
      [10, 3, 0],
      [10, 3, 8], // wraps: rows 8, 9, 0
      [10, 4, 6], // ends exactly at C
      [10, 10, 4], // B = C
      [6, 9, 2], // B > C: the last C rows
      [7, 1, 6],
    ] as const) {
      const buf = buffer(cap, 3, 5);
      const rows = buffer(b, 3, 6);
      const inputs = { buffer: buf, rows, pointer: ptr };
      const ref = replayWriteComposite(inputs);
      const got = runKernel(REPLAY_WRITE_KERNEL, inputs);
      expect(got.shape).toEqual([cap, 3]);
      expect(Array.from(await got.data()), `cap ${cap} b ${b} ptr ${ptr}`).toEqual(
        Array.from(await ref.data()),
      );
      tf.dispose([buf, rows, ref, got]);
    }
  });

  it('no leaks; bad input is an EbmError and leaves nothing behind', async () => {
    const buf = buffer(32, 2);
    const rows = buffer(8, 2);
    const wrongDim = tf.zeros([2, 3]) as tf.Tensor2D;
    await expectNoLeaks(async () => {
      const d = replayDrawWebGpu({
        buffer: buf,
        n: 8,
        key: rngKey(1),
        reinitProbability: 0.5,
        noise: { kind: 'normal', scale: 1, mean: 0 },
      });
      const w = replayWriteWebGpu({ buffer: buf, rows: d, pointer: 30 });
      await w.data();
      tf.dispose([d, w]);
    });
    await expectNoLeaks(() => {
      const bad: [() => unknown, string][] = [
        [
          () =>
            replayDrawWebGpu({
              buffer: buf,
              n: 0,
              key: rngKey(1),
              reinitProbability: 0.5,
              noise: { kind: 'uniform', scale: 1, mean: 0 },
            }),
          'n',
        ],
        [
          () =>
            replayDrawWebGpu({
              buffer: buf,
              n: 4,
              key: rngKey(1),
              reinitProbability: 1.5,
              noise: { kind: 'uniform', scale: 1, mean: 0 },
            }),
          'reinitProbability',
        ],
        [() => replayWriteWebGpu({ buffer: buf, rows, pointer: 32 }), 'pointer'],
        [() => replayWriteWebGpu({ buffer: buf, rows: wrongDim, pointer: 0 }), 'rows'],
      ];
      for (const [f, arg] of bad) {
        let err: unknown;
        try {
          f();
        } catch (e) {
          err = e;
        }
        expect(isEbmError(err), arg).toBe(true);
        expect((err as { argument?: string }).argument).toBe(arg);
      }
    });
    tf.dispose([buf, rows, wrongDim]);
  });
});
