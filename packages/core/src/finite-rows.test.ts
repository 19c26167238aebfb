import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import './register.js';
import { isEbmError } from './errors.js';
import { NON_FINITE_ROWS_KERNEL } from './finite-kernel.js';
import {
  countNonFiniteRows,
  finiteScanPolicy,
  HOST_FINITE_SCAN_MAX,
  KERNEL_FINITE_SCAN_MIN,
  setFiniteScanPolicy,
} from './finite-rows.js';
import { registerKernelImpl } from './kernels.js';
import { type SamplingKernel, sampleChain, sampleChainSync } from './loop.js';
import type { SamplerState } from './sampler.js';
import { expectNoLeaks } from './testing/leaks.js';

/** A kernel whose whole chain puts `bad[r]` into row r (or adds nSteps elsewhere); its step loop is never used. */
function kernelWith(bad: ReadonlyMap<number, number>): SamplingKernel<SamplerState> {
  return {
    name: 'fake',
    init: (x0, t = 0) => ({ x: tf.clone(x0), step: t }),
    step: () => {
      throw new Error('the step loop should not run');
    },
    wholeChain: (s, n) => {
      if (bad.size === 0) return { x: tf.add(s.x, n) as tf.Tensor2D, step: s.step + n };
      const [b, d] = s.x.shape;
      const x = tf.tidy(() => {
        const rows = new Float32Array(b);
        const vals = new Float32Array(b);
        for (const [r, v] of bad) {
          rows[r] = 1;
          vals[r] = v;
        }
        const mask = tf.tile(tf.reshape(tf.tensor1d(rows), [b, 1]), [1, d]);
        const put = tf.tile(tf.reshape(tf.tensor1d(vals), [b, 1]), [1, d]);
        return tf.where(tf.cast(mask, 'bool'), put, tf.add(s.x, n));
      }) as tf.Tensor2D;
      return { x, step: s.step + n };
    },
  };
}

async function opsOf(f: () => Promise<unknown>): Promise<string[]> {
  const p = await tf.profile(f as () => Promise<tf.TensorContainer>);
  return p.kernels.map((k) => k.name);
}

afterEach(() => vi.restoreAllMocks());

describe('the finite check of a whole chain (folded into the read of the final states)', () => {
  it('counts the rows that hold NaN or ±Infinity', () => {
    const d = [1, 2, Number.NaN, 0, Number.POSITIVE_INFINITY, 1, 0, Number.NEGATIVE_INFINITY, 3e38, -3e38];
    expect(countNonFiniteRows(d, 5, 2)).toBe(3);
    expect(countNonFiniteRows(new Float32Array(0), 0, 4)).toBe(0);
  });

  it('checks float32 reads from their bits: every non-finite word, finite edge values, odd lengths, views', () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    const words = [0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fffffff, 0xffffffff];
    for (const n of [1, 3, 4, 5, 33]) {
      for (const w of words) {
        bits[0] = w;
        for (const at of [0, n - 1, n >> 1]) {
          const a = new Float32Array(n).fill(1);
          a[at] = f[0]!;
          expect(countNonFiniteRows(a, n, 1), `n=${n} w=${w.toString(16)} at=${at}`).toBe(1);
        }
      }
      // Largest finite, denormals, ±0: all finite.
      const ok = new Float32Array(n);
      for (let i = 0; i < n; i++) ok[i] = [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0][i % 4]!;
      expect(countNonFiniteRows(ok, n, 1)).toBe(0);
    }
    // A view at an element offset of a larger buffer: only the view is scanned.
    const big = new Float32Array([Number.NaN, 1, 2, 3, 4, Number.POSITIVE_INFINITY]);
    expect(countNonFiniteRows(big.subarray(1, 5), 2, 2)).toBe(0);
    expect(countNonFiniteRows(big.subarray(1, 6), 1, 5)).toBe(1);
    // Rows: two bad entries in one row count once.
    const rows = new Float32Array(12).fill(0.5);
    rows[4] = Number.NaN;
    rows[5] = Number.NEGATIVE_INFINITY;
    rows[11] = Number.POSITIVE_INFINITY;
    expect(countNonFiniteRows(rows, 3, 4)).toBe(2);
  });

  it('reports like the step loop (count, firstStep = nSteps; warn / throw / ignore) without device ops', async () => {
    const k = kernelWith(
      new Map([
        [1, Number.NaN],
        [3, Number.POSITIVE_INFINITY],
      ]),
    );
    const x0 = tf.zeros([5, 3]) as tf.Tensor2D;
    let r: Awaited<ReturnType<typeof sampleChain>> | undefined;
    const ops = await opsOf(async () => {
      r = await sampleChain(k, { x0, nSteps: 7, onNonFinite: 'ignore' });
    });
    expect(r!.nonFinite).toEqual({ chains: 2, firstStep: 7 });
    // No finite-check ops around the chain (the old check ran IsFinite, All, LogicalNot, Fill, Less, ...).
    expect(ops.filter((o) => ['IsFinite', 'All', 'LogicalNot', 'Less', 'Sum'].includes(o))).toEqual([]);
    r!.samples.dispose();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const w = await sampleChain(k, { x0, nSteps: 7 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /2 of 5 chain\(s\) hold NaN\/Infinity \(first seen at step 7\)/,
    );
    w.samples.dispose();
    const s = sampleChainSync(k, { x0, nSteps: 4, onNonFinite: 'ignore' });
    expect(s.nonFinite).toEqual({ chains: 2, firstStep: 4 });
    s.samples.dispose();
    await expectNoLeaks(async () => {
      await expect(sampleChain(k, { x0, nSteps: 7, onNonFinite: 'throw' })).rejects.toSatisfy((e) =>
        isEbmError(e, 'NON_FINITE'),
      );
      expect(() => sampleChainSync(k, { x0, nSteps: 7, onNonFinite: 'throw' })).toThrow(/NaN\/Infinity/);
    });
    const fine = await sampleChain(kernelWith(new Map()), { x0, nSteps: 2, onNonFinite: 'throw' });
    expect(fine.nonFinite).toBeUndefined();
    expect(Array.from(await fine.samples.data())).toEqual(new Array(15).fill(2));
    fine.samples.dispose();
    x0.dispose();
  });

  it(`checks states of more than ${HOST_FINITE_SCAN_MAX} elements with one sum, per chain only when it is not finite`, async () => {
    const b = HOST_FINITE_SCAN_MAX / 32 + 1;
    const k = kernelWith(new Map());
    const x0 = tf.zeros([b, 32]) as tf.Tensor2D;
    let r: Awaited<ReturnType<typeof sampleChain>> | undefined;
    const fineOps = await opsOf(async () => {
      r = await sampleChain(k, { x0, nSteps: 1 });
    });
    expect(r!.nonFinite).toBeUndefined();
    expect(fineOps).toContain('Sum');
    expect(fineOps).not.toContain('IsFinite');
    r!.samples.dispose();
    x0.dispose();
    // Bad rows in x0 stay bad (the fake chain adds nSteps).
    const v = new Float32Array(b * 32);
    v[5] = Number.NaN;
    v[(b - 1) * 32 + 31] = Number.NEGATIVE_INFINITY;
    const bad = tf.tensor2d(v, [b, 32]);
    await expectNoLeaks(async () => {
      const q = await sampleChain(k, { x0: bad, nSteps: 3, onNonFinite: 'ignore' });
      expect(q.nonFinite).toEqual({ chains: 2, firstStep: 3 });
      q.samples.dispose();
    });
    bad.dispose();
  });
});

describe("the large-state check through a backend's nonFiniteRows kernel", () => {
  it(`uses a registered nonFiniteRows for states of ≥ ${KERNEL_FINITE_SCAN_MIN} elements: same report, one call, no leaks`, async () => {
    const calls: number[][] = [];
    // A backend implementation on cpu: the composite, split into two partial counts (as a per-workgroup program).
    const remove = registerKernelImpl(NON_FINITE_ROWS_KERNEL, 'cpu', ({ x }) => {
      calls.push(x.shape);
      return tf.tidy(() => {
        const bad = tf.cast(tf.logicalNot(tf.all(tf.isFinite(x), 1)), 'int32');
        const half = Math.floor(x.shape[0] / 2);
        return tf.stack([tf.sum(tf.slice(bad, 0, half)), tf.sum(tf.slice(bad, half))]) as tf.Tensor1D;
      });
    });
    try {
      const b = KERNEL_FINITE_SCAN_MIN / 32;
      const v = new Float32Array(b * 32);
      v[7] = Number.NaN;
      v[b * 16 + 3] = Number.POSITIVE_INFINITY;
      v[b * 16 + 4] = Number.NaN; // same row
      v[(b - 1) * 32 + 31] = Number.NEGATIVE_INFINITY;
      const bad = tf.tensor2d(v, [b, 32]);
      const k = kernelWith(new Map());
      await expectNoLeaks(async () => {
        const q = await sampleChain(k, { x0: bad, nSteps: 3, onNonFinite: 'ignore' });
        expect(q.nonFinite).toEqual({ chains: 3, firstStep: 3 });
        q.samples.dispose();
        const s = sampleChainSync(k, { x0: bad, nSteps: 2, onNonFinite: 'ignore' });
        expect(s.nonFinite).toEqual({ chains: 3, firstStep: 2 });
        s.samples.dispose();
        await expect(sampleChain(k, { x0: bad, nSteps: 3, onNonFinite: 'throw' })).rejects.toThrow(
          /3 of 16384 chain\(s\) hold NaN\/Infinity \(first seen at step 3\)/,
        );
      });
      expect(calls.length).toBeGreaterThanOrEqual(3);
      expect(calls.every((s) => s[0] === b && s[1] === 32)).toBe(true);
      // Below the threshold the host scan runs (no kernel call) — unless the policy asks for the kernel with the read.
      calls.length = 0;
      const small = tf.tensor2d(v.subarray(0, (b / 2) * 32), [b / 2, 32]);
      const r = await sampleChain(k, { x0: small, nSteps: 1, onNonFinite: 'ignore' });
      expect(r.nonFinite).toEqual({ chains: 1, firstStep: 1 });
      expect(calls).toEqual([]);
      const prev = setFiniteScanPolicy({ kernelWithRead: true });
      try {
        await expectNoLeaks(async () => {
          const q = await sampleChain(k, { x0: small, nSteps: 1, onNonFinite: 'ignore' });
          expect(q.nonFinite).toEqual({ chains: 1, firstStep: 1 });
          q.samples.dispose();
          await expect(sampleChain(k, { x0: small, nSteps: 2, onNonFinite: 'throw' })).rejects.toThrow(
            /1 of 8192 chain\(s\) hold NaN\/Infinity \(first seen at step 2\)/,
          );
        });
        expect(calls.length).toBeGreaterThanOrEqual(2);
      } finally {
        expect(setFiniteScanPolicy(prev)).toEqual({
          kernelFrom: KERNEL_FINITE_SCAN_MIN,
          kernelWithRead: true,
        });
      }
      expect(finiteScanPolicy()).toEqual({ kernelFrom: KERNEL_FINITE_SCAN_MIN, kernelWithRead: false });
      tf.dispose([bad, small, r.samples]);
    } finally {
      remove();
    }
  });
});
