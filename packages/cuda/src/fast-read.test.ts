import { isEbmError, readAsync, registerAsyncReader } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWebGpu, stagingBufferCount } from './fast-read.js';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// The fast read-back of webgpu tensors (fast-read.ts) on lavapipe in CI: same values as data(), ordered after
// tfjs's pending dispatches, no shared staging buffer between concurrent reads, no leaks, fallback.
const required = process.env.EBM_TEST_WEBGPU === '1';
const gpuOk = await setupWebGpu().then(
  () => true,
  (e: unknown) => {
    if (required) throw e;
    console.warn(`[ebm] WebGPU fast-read tests skipped (no adapter): ${String(e)}`);
    return false;
  },
);
await tf.setBackend('cpu');

interface Internals {
  getBufferData: (buffer: unknown) => Promise<ArrayBuffer>;
  tensorMap: { get(id: object): { values?: unknown; resource?: unknown } | undefined };
}

/** Counts tfjs-webgpu's own read-backs (`getBufferData`) while `f` runs. */
async function tfjsReads(f: () => Promise<void>): Promise<number> {
  const b = tf.backend() as unknown as Internals;
  const rd = b.getBufferData;
  let n = 0;
  b.getBufferData = (buffer: unknown) => {
    n++;
    return rd.call(b, buffer);
  };
  try {
    await f();
  } finally {
    b.getBufferData = rd;
  }
  return n;
}

/** A GPU-only [r, c] tensor (made by GPU programs from an uploaded one; no host copy). */
function onGpu(values: Float32Array, r: number, c: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.add(tf.tensor2d(values, [r, c]), 1), 2));
}

function ramp(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i - n / 3) * scale);
}

describe.skipIf(!gpuOk)('readWebGpu: read-back through cached staging buffers', () => {
  // Small ops of host tensors run on the CPU under tfjs-webgpu's CPU forwarding; these tests want GPU tensors.
  let forward = true;
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
    forward = tf.env().getBool('WEBGPU_CPU_FORWARD');
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  });
  afterAll(async () => {
    tf.env().set('WEBGPU_CPU_FORWARD', forward);
    await tf.setBackend('cpu');
  });

  it("equals data()'s values bit for bit, caches them (the next data() reads nothing) and leaks nothing", async () => {
    const v = ramp(300 * 7, 0.37);
    await expectNoLeaks(async () => {
      const a = onGpu(v, 300, 7);
      const b = onGpu(v, 300, 7);
      let fast: tf.TypedArray | undefined;
      let slow: tf.TypedArray | undefined;
      const reads = await tfjsReads(async () => {
        fast = await readWebGpu(a);
        expect(await a.data()).toBe(fast); // served from the cache
      });
      expect(reads).toBe(0);
      expect(
        await tfjsReads(async () => {
          slow = await b.data();
        }),
      ).toBe(1);
      expect(fast).toBeInstanceOf(Float32Array);
      expect(new Uint32Array((fast as Float32Array).buffer)).toEqual(
        new Uint32Array((slow as Float32Array).buffer),
      );
      for (let i = 0; i < v.length; i++) expect((fast as Float32Array)[i]).toBe(Math.fround((v[i]! + 1) * 2));
      // int32 and bool tensors too
      const n = tf.tidy(() => tf.add(tf.tensor1d([1, -2, 3], 'int32'), tf.tensor1d([5, 5, 5], 'int32')));
      const m = tf.tidy(() => tf.greater(n, 4));
      expect(Array.from((await readWebGpu(n)) as Int32Array)).toEqual([6, 3, 8]);
      expect(Array.from((await readWebGpu(m)) as Int32Array)).toEqual([1, 0, 1]);
      expect(Array.from(await m.data())).toEqual([1, 0, 1]);
      tf.dispose([a, b, n, m]);
    });
  });

  it("is ordered after tfjs's pending dispatches (recorded, not yet submitted) and reuses its staging buffer", async () => {
    const v = ramp(64 * 5, 0.1);
    const x = onGpu(v, 64, 5);
    await readWebGpu(x); // one staging buffer of this size exists now
    const before = stagingBufferCount();
    for (let k = 0; k < 5; k++) {
      // a chain of 6 dispatches left in tfjs's encoder (fewer than its batch of 15), then the read
      const y = tf.tidy(() => {
        let t: tf.Tensor = onGpu(v, 64, 5);
        for (let j = 0; j < 4; j++) t = tf.add(t, k + j);
        return t;
      });
      const got = (await readWebGpu(y)) as Float32Array;
      for (let i = 0; i < v.length; i += 17) {
        let want = Math.fround((v[i]! + 1) * 2);
        for (let j = 0; j < 4; j++) want = Math.fround(want + k + j);
        expect(got[i]).toBe(want);
      }
      y.dispose();
    }
    expect(stagingBufferCount()).toEqual(before); // reused, none made
    x.dispose();
  });

  it('concurrent reads of one size use separate staging buffers and all get their own values', async () => {
    const xs = [0, 1, 2, 3].map((k) => onGpu(ramp(128 * 3, k + 1), 128, 3));
    const all = await Promise.all(xs.map((x) => readWebGpu(x)));
    xs.forEach((_, k) => {
      const v = ramp(128 * 3, k + 1);
      for (let i = 0; i < v.length; i++)
        expect((all[k] as Float32Array)[i]).toBe(Math.fround((v[i]! + 1) * 2));
    });
    const c = stagingBufferCount();
    expect(c.all).toBeGreaterThanOrEqual(4);
    expect(c.free).toBe(c.all); // every buffer returned
    tf.dispose(xs);
  });

  it('declines what data() serves as well: values already on the host, another backend, an empty tensor', async () => {
    expect(() => readWebGpu(5 as never)).toThrow(/must be a tf.Tensor/);
    const h = tf.tensor1d([1, 2, 3]); // host values, not uploaded
    expect(readWebGpu(h)).toBeUndefined();
    const e = tf.tidy(() => tf.add(tf.zeros([0, 3]), 1));
    expect(readWebGpu(e)).toBeUndefined();
    tf.dispose([h, e]);
    await tf.setBackend('cpu');
    const c = tf.tensor1d([1, 2]);
    expect(readWebGpu(c)).toBeUndefined();
    c.dispose();
    await tf.setBackend('webgpu');
  });

  it('a failed map rejects with BACKEND_UNAVAILABLE, destroys that staging buffer and leaks no tensor', async () => {
    const proto = (globalThis as unknown as { GPUBuffer: { prototype: { mapAsync: unknown } } }).GPUBuffer
      .prototype;
    const mapAsync = proto.mapAsync;
    const x = onGpu(ramp(40), 8, 5);
    await readWebGpu(x); // a staging buffer of this size, free
    const before = stagingBufferCount();
    proto.mapAsync = () => Promise.reject(new Error('device lost (simulated)'));
    try {
      const y = onGpu(ramp(40), 8, 5);
      await expect(readWebGpu(y)).rejects.toSatisfy((e) => isEbmError(e, 'BACKEND_UNAVAILABLE'));
      y.dispose();
    } finally {
      proto.mapAsync = mapAsync;
    }
    expect(stagingBufferCount()).toEqual({ all: before.all - 1, free: before.free - 1 });
    const z = onGpu(ramp(40), 8, 5);
    expect(Array.from(((await readWebGpu(z)) as Float32Array).slice(0, 2))).toEqual([
      Math.fround((-40 / 3 + 1) * 2),
      Math.fround((1 - 40 / 3 + 1) * 2),
    ]);
    tf.dispose([x, z]);
  });

  it('the whole-chain sample() reads its states through it (no tfjs read-back) with the same values, and falls back when unregistered', async () => {
    const sampler = new LangevinDynamics(new DoubleWell({ barrierHeight: 2, b: 1 }), { stepSize: 0.01 });
    const run = async () => {
      const r = await sampler.sample({ nSamples: 64, dim: 8, nSteps: 10, seed: 3 });
      const d = await r.samples.data(); // served from the loop's read
      r.samples.dispose();
      return d;
    };
    await run(); // warm-up (pipelines)
    let fast: tf.TypedArray | undefined;
    let slow: tf.TypedArray | undefined;
    await expectNoLeaks(async () => {
      expect(
        await tfjsReads(async () => {
          fast = await run();
        }),
      ).toBe(0);
    });
    const decline = registerAsyncReader('webgpu', () => undefined); // core's seam falls back to data()
    try {
      expect(
        await tfjsReads(async () => {
          slow = await run();
        }),
      ).toBe(1);
      const t = onGpu(ramp(6), 2, 3);
      expect(
        await tfjsReads(async () => {
          await readAsync(t);
        }),
      ).toBe(1);
      t.dispose();
    } finally {
      decline();
      registerAsyncReader('webgpu', readWebGpu);
    }
    expect(fast).toEqual(slow);
  });

  it('destroys its staging buffers when the backend is disposed', async () => {
    // A tfjs-webgpu backend of its own on the same device, so the shared one stays usable for other test files.
    const shared = tf.backend() as unknown as {
      device: unknown;
      constructor: new (d: unknown) => tf.KernelBackend;
    };
    const Ctor = shared.constructor;
    const name = 'webgpu-fast-read-test';
    tf.registerBackend(name, () => new Ctor(shared.device));
    const kernels = tf.getKernelsForBackend('webgpu').map((k) => ({ ...k, backendName: name }));
    for (const k of kernels) tf.registerKernel(k);
    try {
      await tf.setBackend(name);
      const own = tf.backend();
      const x = onGpu(ramp(24), 4, 6);
      const y = onGpu(ramp(12), 4, 3);
      const [vx] = await Promise.all([readWebGpu(x), readWebGpu(y)]);
      expect((vx as Float32Array)[0]).toBe(Math.fround((-8 + 1) * 2));
      expect(stagingBufferCount(own)).toEqual({ all: 2, free: 2 });
      tf.dispose([x, y]);
      tf.removeBackend(name); // disposes the backend
      expect(stagingBufferCount(own)).toEqual({ all: 0, free: 0 });
    } finally {
      if (tf.findBackend(name) !== null) tf.removeBackend(name);
      for (const k of kernels) tf.unregisterKernel(k.kernelName, name);
      await tf.setBackend('webgpu');
    }
  });
});
