/**
 * PCD's replay buffer on WebGPU (lavapipe on CPU-only machines): with `@ebm/cuda`'s `replay.draw` / `replay.write`
 * programs a `fit` step's buffer work is two dispatches and no upload; the run equals the composite buffer's
 * (core's tfjs ops, the kernels removed) bit for bit — same start points (uniform initial noise of scale 1,
 * mean 0), same ring contents, same weights; nothing leaks, on success or when a step throws.
 * Tiny network and batch: lavapipe is slow.
 */

import {
  getKernelImpl,
  normalArray,
  REPLAY_DRAW_KERNEL,
  REPLAY_WRITE_KERNEL,
  registerKernelImpl,
  rngKey,
} from '@ebm/core';
import { countKernelCalls, expectNoLeaks, webGpuForTests, withoutKernelImpls } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type FitOptions, fit, PersistentContrastiveDivergence } from '../src/index.js';

const { available } = await webGpuForTests(
  () => setupWebGpu({ kernels: true }),
  'losses replay-buffer webgpu tests',
);

const data = available ? tf.tensor2d(normalArray(rngKey(1), [48, 2]), [48, 2]) : undefined;
afterAll(() => data?.dispose());

const REPLAY = [REPLAY_DRAW_KERNEL, REPLAY_WRITE_KERNEL] as const;

function run(extra: Partial<FitOptions> = {}) {
  const energy = new MLPEnergy({ inputDim: 2, widths: [16, 16], activation: 'silu', seed: 3 });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.1, noiseScale: 1 });
  const loss = new PersistentContrastiveDivergence(energy, {
    sampler,
    k: 3,
    energyL2: 0.01,
    buffer: { capacity: 40, reinitProbability: 0.2 },
  });
  const opt = tf.train.adam(0.01);
  const go = (steps: number, more: Partial<FitOptions> = {}) =>
    fit({ loss, optimizer: opt, data: data!, batchSize: 16, steps, seed: 5, ...extra, ...more });
  const dispose = () => {
    loss.dispose();
    opt.dispose();
    energy.dispose();
  };
  return { energy, loss, opt, go, dispose };
}

async function flat(ts: readonly tf.Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of ts) out.push(...(await t.data()));
  return out;
}

/**
 * Device work per steady-state step of a `fit` run of `warm + steps + 1` steps: program dispatches (by shader
 * key), host→device uploads and device→host reads between `onStep` of step `warm − 1` and of step
 * `warm + steps − 1` (the run's start — Adam state import — and end — write-back, checkpoint — are outside).
 */
async function deviceWork(r: ReturnType<typeof run>, warm: number, steps: number) {
  const be = tf.backend() as unknown as {
    runWebGPUProgram: (p: { shaderKey: string }, ...rest: unknown[]) => unknown;
    uploadToGPU: (id: unknown) => void;
    read: (id: unknown) => Promise<unknown>;
    tensorMap: { get(id: unknown): { values?: unknown; resource?: unknown } | undefined };
  };
  const [runProgram, upload, read] = [be.runWebGPUProgram, be.uploadToGPU, be.read];
  const st = { on: false, dispatches: 0, uploads: 0, reads: 0, byKey: {} as Record<string, number> };
  be.runWebGPUProgram = function (p, ...rest) {
    if (st.on) {
      st.dispatches++;
      const k = String(p.shaderKey).split('_').slice(0, 3).join('_');
      st.byKey[k] = (st.byKey[k] ?? 0) + 1;
    }
    return runProgram.call(this, p, ...rest);
  };
  be.uploadToGPU = function (id) {
    const d = be.tensorMap.get(id);
    if (st.on && d !== undefined && d.resource == null && d.values != null) st.uploads++;
    return upload.call(this, id);
  };
  be.read = function (id) {
    if (st.on) st.reads++;
    return read.call(this, id);
  };
  try {
    await r.go(warm + steps + 1, {
      onStep: (s) => {
        if (s.step === warm - 1) st.on = true;
        if (s.step === warm + steps - 1) st.on = false;
      },
    });
  } finally {
    Object.assign(be, { runWebGPUProgram: runProgram, uploadToGPU: upload, read });
  }
  const per = (v: number) => Math.round((v / steps) * 100) / 100;
  return {
    dispatches: per(st.dispatches),
    uploads: per(st.uploads),
    reads: per(st.reads),
    byKey: Object.fromEntries(Object.entries(st.byKey).map(([k, v]) => [k, per(v)])),
  };
}

describe.skipIf(!available)('PCD replay buffer through the replay kernels on webgpu', () => {
  it('fit: one replay.draw and one replay.write per step; the run equals the composite buffer bit for bit', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    expect(getKernelImpl(REPLAY_DRAW_KERNEL, 'webgpu')).toBeDefined();
    const a = run();
    const b = run();
    const [[ra, draws], writes] = await countKernelCalls(REPLAY_WRITE_KERNEL, 'webgpu', () =>
      countKernelCalls(REPLAY_DRAW_KERNEL, 'webgpu', () => a.go(4)),
    );
    expect(draws).toBe(4);
    expect(writes).toBe(4);
    expect(ra.fusedSteps).toBe(4);
    const rb = await withoutKernelImpls(REPLAY, 'webgpu', () => b.go(4));
    expect(rb.fusedSteps).toBe(4);
    expect(await flat(a.energy.trainableVariables)).toEqual(await flat(b.energy.trainableVariables));
    const [ca, cb] = [a.loss.buffer.contents(), b.loss.buffer.contents()];
    expect(Array.from(await ca.data())).toEqual(Array.from(await cb.data()));
    tf.dispose([ca, cb]);
    expect(ra.history.map((m) => [m.loss, m.metrics.reinitialised])).toEqual(
      rb.history.map((m) => [m.loss, m.metrics.reinitialised]),
    );
    const [sa, sb] = [await a.loss.buffer.save(), await b.loss.buffer.save()];
    expect({ ...sa, data: null }).toEqual({ ...sb, data: null });
    a.dispose();
    b.dispose();
  });

  it('dispatches, uploads and reads per step: the buffer costs two programs and no upload', async () => {
    const measure = async (kernels: boolean) => {
      const r = run();
      try {
        return kernels
          ? await deviceWork(r, 2, 4)
          : await withoutKernelImpls(REPLAY, 'webgpu', () => deviceWork(r, 2, 4));
      } finally {
        r.dispose();
      }
    };
    const fused = await measure(true);
    const composite = await measure(false);
    console.log(
      `[ebm] PCD fit step on webgpu, per step: replay kernels ${JSON.stringify(fused)}; composite buffer ${JSON.stringify(composite)}`,
    );
    // The buffer: one draw and one write program, no upload (the composite: ~12 tfjs programs and 2 uploads).
    expect(fused.byKey.ebm_replay_draw).toBe(1);
    expect(fused.byKey.ebm_replay_write).toBe(1);
    for (const k of ['gather', 'slice', 'ebm_philox_uniform']) expect(fused.byKey[k], k).toBeUndefined();
    expect(fused.dispatches).toBeLessThanOrEqual(composite.dispatches - 6);
    expect(fused.uploads).toBeLessThanOrEqual(composite.uploads - 1);
    // The whole step: key + chain (2), the weights flattened (concat, 2), gradient + Adam (3 + one update per
    // weight: 6), the buffer (2); the batch (a gather of host-resident data) is the one upload; the metrics the
    // one read.
    expect(fused.dispatches).toBe(15);
    expect(fused.uploads).toBe(1);
    expect(fused.reads).toBe(1);
    expect(composite.reads).toBe(1);
  });

  it('no leaks on success and when a step throws after the draw; the buffer keeps its contents', async () => {
    const r = run();
    await expectNoLeaks(() => r.go(2));
    // A write that fails: the step throws, nothing leaks, the buffer keeps its previous contents.
    const write = getKernelImpl(REPLAY_WRITE_KERNEL, 'webgpu')!;
    const before = await r.loss.buffer.save();
    registerKernelImpl(
      REPLAY_WRITE_KERNEL,
      'webgpu',
      () => {
        throw new Error('write failure (test)');
      },
      { override: true },
    );
    try {
      await expectNoLeaks(async () => {
        await expect(r.go(1)).rejects.toThrow('write failure');
      });
    } finally {
      registerKernelImpl(REPLAY_WRITE_KERNEL, 'webgpu', write, { override: true });
    }
    expect(await r.loss.buffer.save()).toEqual(before);
    r.dispose();
  });
});
