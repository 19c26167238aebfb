import {
  isEbmError,
  NON_FINITE_ROWS_KERNEL,
  registerKernelImpl,
  runKernel,
  unregisterKernelImpl,
} from '@ebm/core';
import { setFiniteScanPolicy } from '@ebm/core/internal';
import { expectNoLeaks, webGpuForTests } from '@ebm/core/testing';
import * as M from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nonFiniteRowsWebGpu } from './finite-scan.js';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// The end-of-run finite check of a large whole chain (issue 11): one `nonFiniteRows` dispatch and a read of its
// partial counts instead of tfjs's sum / isFinite / all / … chain. On lavapipe in CI.
const { available: gpuOk } = await webGpuForTests(() => setupWebGpu(), 'WebGPU finite-scan tests');
await tf.setBackend('cpu');

/** The internals of tfjs-webgpu's backend that the counts below wrap. */
interface WebGpuInternals {
  runWebGPUProgram: (...a: unknown[]) => unknown;
  getBufferData: (buffer: unknown) => Promise<ArrayBuffer>;
}

/** Dispatches and read-backs of `f` on the active webgpu backend. */
async function counted<T>(f: () => Promise<T>): Promise<{ value: T; dispatches: number; reads: number }> {
  const b = tf.backend() as unknown as WebGpuInternals;
  const c = { dispatches: 0, reads: 0 };
  const run = b.runWebGPUProgram;
  const rd = b.getBufferData;
  b.runWebGPUProgram = (...a: unknown[]) => {
    c.dispatches++;
    return run.apply(b, a);
  };
  b.getBufferData = (buffer: unknown) => {
    c.reads++;
    return rd.call(b, buffer);
  };
  try {
    return { value: await f(), ...c };
  } finally {
    b.runWebGPUProgram = run;
    b.getBufferData = rd;
  }
}

/** `[b, d]` values in (−1, 1) with NaN, +∞ or −∞ planted at `bad` (row, column) pairs. */
function planted(b: number, d: number, bad: readonly (readonly [number, number])[]): Float32Array {
  const v = new Float32Array(b * d);
  let s = 12345;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    v[i] = s / 2 ** 31 - 1;
  }
  bad.forEach(([r, c], k) => {
    v[r * d + c] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][k % 3]!;
  });
  return v;
}

describe.skipIf(!gpuOk)('nonFiniteRows on WebGPU (the large whole chain finite check)', () => {
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('counts the non-finite rows as the composite does, for narrow, wide and odd shapes', async () => {
    const cases: [number, number, [number, number][]][] = [
      [
        5,
        3,
        [
          [1, 2],
          [4, 0],
          [1, 0],
        ],
      ], // two bad entries in row 1
      [
        1000,
        32,
        [
          [0, 0],
          [255, 31],
          [256, 0],
          [999, 17],
          [256, 5],
        ],
      ], // workgroup borders (256 rows per group)
      [3, 20000, [[2, 19999]]], // one row per workgroup, strided
      [
        70000,
        1,
        [
          [69999, 0],
          [3, 0],
        ],
      ], // 256 rows of one element per group; last group partial
      [300, 300, []],
    ];
    for (const [b, d, bad] of cases) {
      const x = tf.tensor2d(planted(b, d, bad), [b, d]);
      const want = new Set(bad.map(([r]) => r)).size;
      const got = await expectNoLeaks(async () => {
        const c = runKernel(NON_FINITE_ROWS_KERNEL, { x });
        const v = await c.data();
        c.dispose();
        return Array.from(v).reduce((a, n) => a + n, 0);
      });
      const comp = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.all(tf.isFinite(x), 1)), 'int32')));
      expect([got, (await comp.data())[0]], `${b}x${d}`).toEqual([want, want]);
      tf.dispose([x, comp]);
    }
    expect(() => nonFiniteRowsWebGpu({ x: tf.zeros([4], 'float32') as never })).toThrowError(
      /INVALID_PARAM|float32 \[B, D\]/,
    );
  });

  // x0 with NaN / ±∞ planted in chosen chains: a Langevin step keeps them non-finite and the others finite, so the
  // run reports exactly those chains — the same report, error and warning with the kernel as with the tfjs ops.
  it('sample() of a large state reports the same non-finite chains with one scan dispatch and one small read', async () => {
    const [B, D] = [16384, 32]; // 2¹⁹ elements: core's KERNEL_FINITE_SCAN_MIN, the kernel's path
    const bad: [number, number][] = [
      [3, 0],
      [5000, 31],
      [5000, 7],
      [9000, 12],
      [B - 1, 30],
    ];
    const x0 = tf.tensor2d(planted(B, D, bad), [B, D]);
    const sampler = new LangevinDynamics(new M.DoubleWell({ barrierHeight: 2, b: 1 }), { stepSize: 0.01 });
    const want = { chains: 4, firstStep: 2 };
    const withKernel = await counted(async () => {
      const r = await sampler.sample({ x0, nSteps: 2, seed: 3, onNonFinite: 'ignore' });
      r.samples.dispose();
      return r.nonFinite;
    });
    expect(withKernel).toEqual({ value: want, dispatches: 2, reads: 1 });
    // The same run through the tfjs ops (kernel unregistered) reports the same.
    unregisterKernelImpl(NON_FINITE_ROWS_KERNEL, 'webgpu');
    try {
      const r = await sampler.sample({ x0, nSteps: 2, seed: 3, onNonFinite: 'ignore' });
      expect(r.nonFinite).toEqual(want);
      r.samples.dispose();
    } finally {
      registerKernelImpl(NON_FINITE_ROWS_KERNEL, 'webgpu', nonFiniteRowsWebGpu, { override: true });
    }
    // 'throw': NON_FINITE naming the count, nothing leaked; 'warn': the same message on the console.
    await expectNoLeaks(async () => {
      await expect(sampler.sample({ x0, nSteps: 2, seed: 3, onNonFinite: 'throw' })).rejects.toSatisfy(
        (e) =>
          isEbmError(e, 'NON_FINITE') &&
          /4 of 16384 chain\(s\) hold NaN\/Infinity \(first seen at step 2\)/.test((e as Error).message),
      );
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const r = await sampler.sample({ x0, nSteps: 2, seed: 3 });
      expect(r.nonFinite).toEqual(want);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/4 of 16384 chain\(s\) hold NaN\/Infinity/));
      r.samples.dispose();
    } finally {
      warn.mockRestore();
    }
    // A finite large run: no report, and the caller's read is the second (the check read only the counts).
    const clean = tf.tensor2d(planted(B, D, []), [B, D]);
    const ok = await counted(async () => {
      const r = await sampler.sample({ x0: clean, nSteps: 2, seed: 3 });
      const d = await r.samples.data();
      r.samples.dispose();
      return [r.nonFinite, d.length];
    });
    expect(ok).toEqual({ value: [undefined, B * D], dispatches: 2, reads: 2 });
    // A small state with the policy's kernelWithRead: the counts are read together with the states (no host scan),
    // and the caller's read is served from the states read.
    const prev = setFiniteScanPolicy({ kernelWithRead: true });
    try {
      const small = tf.slice(x0, [0, 0], [4096, D]) as tf.Tensor2D;
      await small.data();
      const s = await counted(async () => {
        const r = await sampler.sample({ x0: small, nSteps: 2, seed: 3, onNonFinite: 'ignore' });
        const d = await r.samples.data();
        r.samples.dispose();
        return [r.nonFinite, d.length];
      });
      expect(s).toEqual({ value: [{ chains: 1, firstStep: 2 }, 4096 * D], dispatches: 2, reads: 2 });
      small.dispose();
    } finally {
      setFiniteScanPolicy(prev);
    }
    tf.dispose([x0, clean]);
  });
});
