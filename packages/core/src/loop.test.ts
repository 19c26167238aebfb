import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { isEbmError } from './errors.js';
import { randomNormal } from './kernels.js';
import { type ChainOptions, type SamplingKernel, sampleChain, sampleChainSync } from './loop.js';
import { foldIn, type RngKey } from './rng.js';
import { disposeSampleResult, type SamplerState, type StepResult } from './sampler.js';
import { deserializeState, serializeState } from './state.js';
import { expectNoLeaks } from './testing/leaks.js';
import { testSeed } from './testing/seed.js';
import { expectMean, expectVariance } from './testing/stats.js';

interface ArState extends SamplerState {
  readonly x: tf.Tensor2D;
}
type ArInfo = { readonly sq: tf.Tensor1D };

/** x' = ρx + √(1−ρ²)ξ leaves N(0, I) invariant: a kernel written as a plain object, no base class. */
function arKernel(
  rho: number,
  opts: { throwAt?: number; async?: boolean } = {},
): SamplingKernel<ArState, ArInfo> {
  const step = (s: ArState, key: RngKey): StepResult<ArState, ArInfo> => {
    if (opts.throwAt !== undefined && s.step === opts.throwAt) throw new Error('energy blew up');
    const x = tf.tidy(() =>
      tf.add(tf.mul(s.x, rho), tf.mul(randomNormal(key, s.x.shape), Math.sqrt(1 - rho * rho))),
    ) as tf.Tensor2D;
    const sq = tf.tidy(() => tf.sum(tf.square(x), 1)) as tf.Tensor1D;
    return { state: { x, step: s.step + 1 }, info: { sq } };
  };
  return {
    name: 'ar',
    dim: 2,
    init: (x0, t = 0) => ({ x: tf.clone(x0), step: t }),
    step,
    ...(opts.async
      ? {
          stepAsync: async (s: ArState, k: RngKey) => {
            await Promise.resolve();
            return step(s, k);
          },
        }
      : {}),
  };
}

describe('sampleChain: the free loop over any { init, step } kernel', () => {
  it('samples the target and stacks trace fields over kept steps ([nKept, ...])', async () => {
    const seed = testSeed('loop-target');
    const r = await sampleChain(arKernel(0.3), {
      nSamples: 4000,
      dim: 2,
      nSteps: 12,
      thin: 3,
      burnIn: 2,
      seed,
      trace: (s, info) => ({ m: tf.mean(s.x, 0), sq: tf.mean(info.sq), x: s.x }),
    });
    expect(r.nKept).toBe(4);
    expect(r.traces?.m?.shape).toEqual([4, 2]);
    expect(r.traces?.sq?.shape).toEqual([4]);
    expect(r.traces?.x?.shape).toEqual([4, 4000, 2]);
    const v = await r.samples.data();
    const c0 = Array.from({ length: 4000 }, (_, i) => v[2 * i]!);
    expectMean(c0, 0, { seed });
    expectVariance(c0, 1, { seed });
    // E‖x‖² = 2 under N(0, I₂): the traced chain mean is within MC error of it at every kept step.
    for (const q of await r.traces!.sq!.data()) expect(Math.abs(q - 2)).toBeLessThan(0.2);
    tf.dispose([r.samples, ...Object.values(r.traces!)]);
  });

  it('sync and async runs, and async steps, give bit-identical results', async () => {
    const opts: ChainOptions<ArState, ArInfo> = { nSamples: 5, dim: 2, nSteps: 7, seed: 11 };
    const a = sampleChainSync(arKernel(0.5), opts);
    const b = await sampleChain(arKernel(0.5), opts);
    const c = await sampleChain(arKernel(0.5, { async: true }), opts);
    const [da, db, dc] = await Promise.all([a.samples.data(), b.samples.data(), c.samples.data()]);
    expect(Array.from(db)).toEqual(Array.from(da));
    expect(Array.from(dc)).toEqual(Array.from(da));
    tf.dispose([a.samples, b.samples, c.samples]);
  });

  it('resumes bit-identically from a saved state (serializeState → JSON → deserializeState)', async () => {
    const k = arKernel(0.5);
    const full = await sampleChain(k, { nSamples: 3, dim: 2, nSteps: 10, seed: 5 });
    const first = await sampleChain(k, { nSamples: 3, dim: 2, nSteps: 4, seed: 5, keepState: true });
    const saved = JSON.parse(JSON.stringify(await serializeState(first.finalState!)));
    const restored = deserializeState<ArState>(saved);
    const rest = await sampleChain(k, { nSteps: 6, seed: 5, resumeFrom: restored });
    expect(Array.from(await rest.samples.data())).toEqual(Array.from(await full.samples.data()));
    tf.dispose([full.samples, first.samples, rest.samples, restored.x, first.finalState!.x]);
  });

  it('reports progress and stops on abort with nothing leaked', async () => {
    const events: number[] = [];
    const r = await sampleChain(arKernel(0.5), {
      nSamples: 2,
      dim: 2,
      nSteps: 10,
      progressEvery: 5,
      onProgress: (e) => events.push(e.step),
    });
    expect(events).toEqual([5, 10]);
    r.samples.dispose();
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    const run = sampleChain(arKernel(0.5), {
      nSamples: 2,
      dim: 2,
      nSteps: 50,
      progressEvery: 1,
      trace: (s) => ({ x: s.x }),
      onProgress: (e) => {
        if (e.step === 3) ctl.abort('user');
      },
      signal: ctl.signal,
    });
    await expect(run).rejects.toThrow(/ABORTED/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('releases every tensor when the kernel throws mid-run (sync, async, async step)', async () => {
    const opts = (k: SamplingKernel<ArState, ArInfo>) =>
      ({
        nSamples: 3,
        dim: 2,
        nSteps: 8,
        trajectory: { fields: ['x', 'sq'] },
        diagnostics: true,
        trace: (s: ArState) => ({ m: tf.mean(s.x) }),
      }) as ChainOptions<ArState, ArInfo> & { kernel?: typeof k };
    const before = tf.memory().numTensors;
    expect(() => sampleChainSync(arKernel(0.5, { throwAt: 4 }), opts(arKernel(0.5)))).toThrow(/blew up/);
    await expect(sampleChain(arKernel(0.5, { throwAt: 4 }), opts(arKernel(0.5)))).rejects.toThrow(/blew up/);
    await expect(
      sampleChain(arKernel(0.5, { throwAt: 4, async: true }), opts(arKernel(0.5))),
    ).rejects.toThrow(/blew up/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a successful run with traces, trajectory and diagnostics leaks nothing', async () => {
    await expectNoLeaks(
      () =>
        sampleChain(arKernel(0.5), {
          nSamples: 3,
          dim: 2,
          nSteps: 8,
          trajectory: { fields: ['x', 'sq'] },
          diagnostics: { convergence: true },
          trace: (s, info) => ({ m: tf.mean(s.x), sq: info.sq }),
        }),
      { label: 'sampleChain' },
    );
  });

  it('computes convergence diagnostics asynchronously', async () => {
    const r = await sampleChain(arKernel(0.2), {
      nSamples: 4,
      dim: 2,
      nSteps: 40,
      seed: 3,
      diagnostics: { convergence: true },
    });
    expect(r.convergence?.rhat.length).toBe(2);
    for (const v of r.convergence!.rhat) expect(v).toBeLessThan(1.2);
    expect(r.diagnostics?.mean.shape).toEqual([40, 2]);
    expect(r.diagnostics?.sq.shape).toEqual([40]);
    tf.dispose([r.samples, ...Object.values(r.diagnostics!)]);
  });

  it('uses an async whole-chain fast path in async runs only', async () => {
    let called = 0;
    const k = {
      ...arKernel(0.5),
      wholeChain: async (s: ArState, n: number) => {
        called++;
        return { x: tf.add(s.x, n) as tf.Tensor2D, step: s.step + n };
      },
    };
    const x0 = tf.zeros([1, 2]) as tf.Tensor2D;
    const a = await sampleChain(k, { x0, nSteps: 3 });
    expect(Array.from(await a.samples.data())).toEqual([3, 3]);
    const b = sampleChainSync(k, { x0, nSteps: 3 }); // falls back to the step loop
    expect(called).toBe(2); // the sync run asked and ignored the promise
    expect(Array.from(await b.samples.data())).not.toEqual([3, 3]);
    tf.dispose([x0, a.samples, b.samples]);
  });

  it("a whole chain that records (WholeChainRequest) gives the step loop's diagnostics and trajectory", async () => {
    const base = arKernel(0.4);
    const requests: unknown[] = [];
    // A reference recorder: the same steps and keys as the loop, recording what the request asks for.
    const recording: SamplingKernel<ArState, ArInfo> = {
      ...base,
      wholeChain: (s0, n, runKey, request) => {
        requests.push(request);
        let s = { x: tf.clone(s0.x), step: s0.step };
        const xs: tf.Tensor[] = [];
        const cols: Record<string, tf.Tensor[]> = { mean: [], var: [], sq: [] };
        for (let i = 1; i <= n; i++) {
          const r = base.step(s, foldIn(runKey, s.step));
          tf.dispose(s.x);
          s = r.state;
          if (request !== undefined && i > request.burnIn && (i - request.burnIn) % request.thin === 0) {
            if (request.trajectory) xs.push(tf.clone(s.x));
            if (request.diagnostics) {
              const { mean, variance } = tf.moments(s.x, 0);
              cols.mean!.push(mean);
              cols.var!.push(tf.clipByValue(variance, 1e-10, 1e10));
              variance.dispose();
              cols.sq!.push(tf.mean(r.info.sq));
            }
          }
          r.info.sq.dispose();
        }
        if (request === undefined) return s;
        const out = {
          state: s,
          ...(request.trajectory ? { trajectory: tf.stack(xs, 1) } : {}),
          ...(request.diagnostics
            ? { diagnostics: Object.fromEntries(Object.entries(cols).map(([k, a]) => [k, tf.stack(a, 0)])) }
            : {}),
        };
        tf.dispose([...xs, ...Object.values(cols).flat()]);
        return out;
      },
    };
    const opts = {
      nSamples: 6,
      dim: 2,
      nSteps: 20,
      burnIn: 3,
      thin: 2,
      seed: 9,
      trajectory: true,
      diagnostics: { convergence: true },
    } as const;
    const events: number[] = [];
    const whole = await expectNoLeaks(
      () => sampleChain(recording, { ...opts, onProgress: (e) => events.push(e.step) }),
      { keepOutputs: true },
    );
    expect(requests.at(-1)).toEqual({ burnIn: 3, thin: 2, diagnostics: true, trajectory: true });
    expect(new Set(events)).toEqual(new Set([23])); // one report at the end (per run: expectNoLeaks runs twice)
    const loop = await sampleChain(base, opts);
    expect(Object.keys(whole.diagnostics!).sort()).toEqual(Object.keys(loop.diagnostics!).sort());
    for (const [k, v] of Object.entries(loop.diagnostics!)) {
      const w = (whole.diagnostics as Record<string, tf.Tensor>)[k]!;
      expect(w.shape, k).toEqual(v.shape);
      expect(Array.from(await w.data()), k).toEqual(Array.from(await v.data()));
    }
    expect(Object.keys(whole.trajectory!)).toEqual(['x']);
    expect(whole.trajectory!.x!.shape).toEqual([6, 10, 2]);
    expect(Array.from(await whole.trajectory!.x!.data())).toEqual(
      Array.from(await loop.trajectory!.x!.data()),
    );
    expect(whole.convergence).toEqual(loop.convergence);
    expect(Array.from(await whole.samples.data())).toEqual(Array.from(await loop.samples.data()));
    disposeSampleResult(whole);
    disposeSampleResult(loop);
    // Diagnostics only, sync: no positions asked for; other trajectory fields or a trace: the step loop.
    requests.length = 0;
    disposeSampleResult(sampleChainSync(recording, { ...opts, trajectory: false, diagnostics: true }));
    expect(requests).toEqual([{ burnIn: 3, thin: 2, diagnostics: true, trajectory: false }]);
    disposeSampleResult(sampleChainSync(recording, { ...opts, trajectory: { fields: ['x', 'sq'] } }));
    disposeSampleResult(
      sampleChainSync(recording, { ...opts, diagnostics: false, trace: (st) => ({ x: st.x }) }),
    );
    expect(requests.length).toBe(1);
    // Nothing kept (nSteps < thin): a plain whole chain, and the same empty records as the step loop.
    const none = sampleChainSync(recording, { ...opts, nSteps: 1, diagnostics: true });
    expect(requests.at(-1)).toBeUndefined();
    expect(none.diagnostics).toEqual({});
    expect(none.trajectory).toEqual({});
    disposeSampleResult(none);
  });

  it('with progress or a signal a whole chain runs in segments: same samples, progress, abort, nothing leaked', async () => {
    const base = arKernel(0.6);
    const sizes: number[] = [];
    // A whole chain that draws the loop's stream (the step from state step s uses foldIn(runKey, s)).
    const segmented: SamplingKernel<ArState, ArInfo> = {
      ...base,
      wholeChain: (s0, n, runKey) => {
        sizes.push(n);
        let s = { x: tf.clone(s0.x), step: s0.step };
        for (let i = 0; i < n; i++) {
          const r = base.step(s, foldIn(runKey, s.step));
          tf.dispose([s.x, r.info.sq]);
          s = r.state;
        }
        return s;
      },
    };
    const opts = { nSamples: 5, dim: 2, nSteps: 90, burnIn: 10, seed: 4, progressEvery: 4 };
    const plain = await sampleChain(base, opts);
    const events: number[] = [];
    const seg = await expectNoLeaks(
      () => sampleChain(segmented, { ...opts, onProgress: (e) => events.push(e.step) }),
      {
        keepOutputs: true,
      },
    );
    // ⌈100 / 16⌉ = 7, rounded up to a multiple of progressEvery: segments of 8 (the last one 4).
    expect(sizes.slice(-13)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 4]);
    expect(events.slice(-13)).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 100]);
    expect(Array.from(await seg.samples.data())).toEqual(Array.from(await plain.samples.data()));
    tf.dispose([plain.samples, seg.samples]);
    // Abort between segments: ABORTED, nothing leaked.
    const ac = new AbortController();
    await expectNoLeaks(async () => {
      await expect(
        sampleChain(segmented, {
          ...opts,
          signal: ac.signal,
          onProgress: (e) => {
            if (e.step >= 24) ac.abort();
          },
        }),
      ).rejects.toSatisfy((e) => isEbmError(e, 'ABORTED'));
    });
  });

  it('a throwing or non-finite whole chain releases everything and reports like the step loop', async () => {
    const boom: SamplingKernel<ArState, ArInfo> = {
      ...arKernel(0.5),
      wholeChain: () => {
        throw new Error('kernel blew up');
      },
    };
    await expectNoLeaks(async () => {
      await expect(sampleChain(boom, { nSamples: 3, dim: 2, nSteps: 5, diagnostics: true })).rejects.toThrow(
        /kernel blew up/,
      );
    });
    const nan: SamplingKernel<ArState, ArInfo> = {
      ...arKernel(0.5),
      wholeChain: (s, n, _k, request) => {
        const x = tf.tidy(() =>
          tf.concat([tf.fill([1, 2], Number.NaN), tf.slice(s.x, [1, 0], [-1, -1])]),
        ) as tf.Tensor2D;
        const state = { x, step: s.step + n };
        if (request === undefined) return state;
        return { state, trajectory: tf.zeros([3, n, 2]) };
      },
    };
    await expectNoLeaks(async () => {
      await expect(
        sampleChain(nan, { nSamples: 3, dim: 2, nSteps: 4, trajectory: true, onNonFinite: 'throw' }),
      ).rejects.toSatisfy((e) => isEbmError(e, 'NON_FINITE'));
    });
    const r = await sampleChain(nan, { nSamples: 3, dim: 2, nSteps: 4, onNonFinite: 'ignore' });
    expect(r.nonFinite).toEqual({ chains: 1, firstStep: 4 });
    r.samples.dispose();
  });

  it('rejects a kernel without init/step and a bad trace with EbmError', async () => {
    await expect(sampleChain({} as never, { nSteps: 1 })).rejects.toSatisfy((e) =>
      isEbmError(e, 'INVALID_PARAM'),
    );
    expect(() =>
      sampleChainSync(arKernel(0.5), { nSamples: 1, dim: 2, nSteps: 1, trace: 3 as never }),
    ).toThrow(/trace must be a function/);
  });

  it('deserializeState treats saved data as untrusted', () => {
    const bad = JSON.parse(
      '{"x":{"tensor":true,"shape":[1,2],"dtype":"float32","data":[1,2]},"step":0,"__proto__":{"polluted":1}}',
    );
    const before = tf.memory().numTensors;
    expect(() => deserializeState(bad)).toThrow(/saved\.__proto__/);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
    expect(() =>
      deserializeState({
        x: { tensor: true, shape: [1, 2], dtype: 'float32', data: [1, 2] },
        step: 0,
        y: { tensor: true, shape: [1e9, 1e9], dtype: 'float32', data: [1] },
      } as never),
    ).toThrow(/saved\.y/);
    expect(tf.memory().numTensors).toBe(before); // nothing half-built
  });

  it('rejects unknown option names with a suggestion (a TorchEBM user types n_steps)', async () => {
    await expect(sampleChain(arKernel(0.5), { nSamples: 2, dim: 2, n_steps: 5 } as never)).rejects.toThrow(
      /Unknown option "n_steps" for ar\.sample\(\)\. Did you mean "nSteps"\?/,
    );
    expect(() =>
      sampleChainSync(arKernel(0.5), { nSamples: 2, dim: 2, nSteps: 1, thinning: 2 } as never),
    ).toThrow(/Did you mean "thin"/);
  });

  it('refuses huge allocations before allocating', () => {
    const before = tf.memory().numTensors;
    expect(() => sampleChainSync(arKernel(0.5), { nSamples: 1e9, dim: 2, nSteps: 1 })).toThrow(
      /over the limit/,
    );
    expect(() =>
      sampleChainSync(arKernel(0.5), { nSamples: 1000, dim: 2, nSteps: 1e6, trajectory: true }),
    ).toThrow(/trajectory needs .* over the limit/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('draws a fresh seed per unseeded run and reports it, so the run can be replayed', async () => {
    const a = await sampleChain(arKernel(0.5), { nSamples: 3, dim: 2, nSteps: 3 });
    const b = await sampleChain(arKernel(0.5), { nSamples: 3, dim: 2, nSteps: 3 });
    expect(a.seed).not.toEqual(b.seed);
    const replay = await sampleChain(arKernel(0.5), { nSamples: 3, dim: 2, nSteps: 3, seed: a.seed! });
    expect(Array.from(await replay.samples.data())).toEqual(Array.from(await a.samples.data()));
    expect(Array.from(await b.samples.data())).not.toEqual(Array.from(await a.samples.data()));
    tf.dispose([a.samples, b.samples, replay.samples]);
  });

  it('reports non-finite chains: warn (default), throw, ignore', async () => {
    // x' = 10·x: overflows to Infinity in float32 after ~38 steps for chains started at |x| ≥ 1.
    const blowUp: SamplingKernel<ArState> = {
      name: 'blowUp',
      init: (x0, t = 0) => ({ x: tf.clone(x0), step: t }),
      step: (s) => ({ state: { x: tf.mul(s.x, 10) as tf.Tensor2D, step: s.step + 1 }, info: {} }),
    };
    const x0 = tf.tensor2d([
      [1, 0],
      [0, 0],
      [-2, 0],
    ]);
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      const r = await sampleChain(blowUp, { x0, nSteps: 48 }); // checked every 3 steps
      expect(r.nonFinite).toEqual({ chains: 2, firstStep: 39 }); // overflow at step 39 (|x| ≥ 1e39)
      expect(warnings.join()).toMatch(/2 of 3 chain\(s\) hold NaN\/Infinity \(first seen at step 39\)/);
      r.samples.dispose();
      const q = sampleChainSync(blowUp, { x0, nSteps: 60, onNonFinite: 'ignore' });
      expect(q.nonFinite?.chains).toBe(2);
      q.samples.dispose();
      expect(warnings.length).toBe(1);
      const before = tf.memory().numTensors;
      await expect(sampleChain(blowUp, { x0, nSteps: 60, onNonFinite: 'throw' })).rejects.toThrow(
        /NON_FINITE/,
      );
      expect(tf.memory().numTensors).toBe(before);
      const fine = await sampleChain(arKernel(0.5), { x0, nSteps: 5 });
      expect(fine.nonFinite).toBeUndefined();
      fine.samples.dispose();
    } finally {
      console.warn = warn;
      x0.dispose();
    }
  });
});
