import { chainKernelName, foldIn, isEbmError, type RngKey, rngKey, runKernel } from '@ebm/core';
import { webGpuForTests } from '@ebm/core/testing';
import * as M from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SEPARABLE_VARIANT,
  parseSeparableVariant,
  SMALL_SEPARABLE_THREADS,
  SMALL_SEPARABLE_VARIANT,
  separableChainVariant,
  separableVariantLabel,
  setSeparableChainVariant,
} from './chain-programs.js';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// The separable whole-chain program's code variants (issue 11: unrolled / interleaved Philox, workgroup size,
// hoisted Philox rounds, branch-free normals) against the default program: bit-identical output, on lavapipe.
const { available: gpuOk } = await webGpuForTests(() => setupWebGpu(), 'WebGPU chain-variant tests');
await tf.setBackend('cpu');

/** The reference: the program as it was before the variants (the default until benchmarks pick another). */
const TODAY = 'u1/w64';

/**
 * Every value of every field at least once, in mixed combinations (all 48 would cost minutes of lavapipe compiles;
 * each program is compiled once here and reused by the later cases).
 */
const VARIANTS = [
  'u2/w32/hoist',
  'u4/w128/select',
  'u1/w256/hoist/select',
  'u4/w64/hoist/select',
  'u2/w128/hoist/select',
  'u1/w32',
];

describe('separable chain variants: labels', () => {
  it('parses labels and partial objects, round-trips labels, rejects anything else with INVALID_PARAM', () => {
    expect(parseSeparableVariant(undefined)).toEqual(DEFAULT_SEPARABLE_VARIANT);
    expect(parseSeparableVariant('default')).toEqual(DEFAULT_SEPARABLE_VARIANT);
    expect(separableVariantLabel(DEFAULT_SEPARABLE_VARIANT)).toBe('u1/w64');
    for (const v of VARIANTS) expect(separableVariantLabel(parseSeparableVariant(v))).toBe(v);
    expect(parseSeparableVariant({ unroll: 4, hoist: true })).toEqual({
      unroll: 4,
      workgroup: 64,
      hoist: true,
      select: false,
    });
    for (const v of ['u2/w64', 'u1/w32/select', 'u4/w256/hoist', 'u1/w128/select']) {
      expect(separableVariantLabel(parseSeparableVariant(v))).toBe(v);
    }
    // The removed chunked form: 'c0' / chunk 0 (one thread per 4 elements) still parse, any other chunk does not.
    expect(parseSeparableVariant('u2/w128/c0/hoist')).toEqual(parseSeparableVariant('u2/w128/hoist'));
    expect(parseSeparableVariant({ unroll: 2, chunk: 0 })).toEqual(parseSeparableVariant('u2'));
    for (const old of ['u2/w64/c16/hoist/select', { chunk: 8 }]) {
      expect(() => parseSeparableVariant(old)).toThrow(/chunked .* were removed/);
    }
    for (const bad of [
      'w256/c16',
      'c12',
      'u3',
      'w48',
      'u2/fast',
      '',
      { unroll: 8 },
      { unrol: 2 },
      { hoist: 1 },
      2,
      null,
      [],
    ]) {
      let err: unknown;
      try {
        parseSeparableVariant(bad);
      } catch (e) {
        err = e;
      }
      expect(isEbmError(err) && err.code === 'INVALID_PARAM', JSON.stringify(bad)).toBe(true);
    }
    const prev = setSeparableChainVariant('u2/w128');
    expect(prev).toBeUndefined(); // nothing forced: chosen by size
    expect(separableVariantLabel(separableChainVariant())).toBe('u2/w128');
    expect(separableVariantLabel(separableChainVariant(1 << 30))).toBe('u2/w128'); // forced: any size
    expect(separableVariantLabel(setSeparableChainVariant(undefined)!)).toBe('u2/w128');
    expect(separableChainVariant()).toEqual(DEFAULT_SEPARABLE_VARIANT);
  });

  it('picks the variant by size when none is forced: few threads the latency-bound one, many the default', () => {
    expect(separableChainVariant(4096 * 32)).toEqual(SMALL_SEPARABLE_VARIANT);
    expect(separableChainVariant(4 * SMALL_SEPARABLE_THREADS)).toEqual(SMALL_SEPARABLE_VARIANT);
    expect(separableChainVariant(4 * SMALL_SEPARABLE_THREADS + 1)).toEqual(DEFAULT_SEPARABLE_VARIANT);
    expect(separableChainVariant(1048576 * 32)).toEqual(DEFAULT_SEPARABLE_VARIANT);
    expect(separableVariantLabel(SMALL_SEPARABLE_VARIANT)).toBe('u2/w128/hoist/select');
  });
});

describe.skipIf(!gpuOk)('separable chain variants on WebGPU: bit-identical to the default program', () => {
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
  });
  afterEach(() => {
    setSeparableChainVariant(undefined);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const settings = { stepSize: 0.01, noiseScale: 1 };

  /** The final states of chain.<kind> under `variant`, as raw bits. */
  async function bits(
    variant: string | undefined,
    kind: string,
    params: Record<string, number>,
    inputs: Record<string, unknown>,
  ): Promise<Uint32Array> {
    setSeparableChainVariant(variant);
    const out = runKernel(chainKernelName(kind), {
      method: 'langevin',
      params,
      settings,
      ...inputs,
    } as never);
    const d = (await (out as tf.Tensor).data()) as Float32Array;
    (out as tf.Tensor).dispose();
    return new Uint32Array(d.slice().buffer);
  }

  function differing(a: Uint32Array, b: Uint32Array): number {
    expect(a.length).toBe(b.length);
    let n = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
    return n;
  }

  it('x0 given and x0 drawn in the kernel, nSteps not a multiple of the unroll, a partial last Philox block, the 64-bit step carry', async () => {
    const params = { barrierHeight: 2, b: 1 };
    const key: RngKey = rngKey(11);
    // 67·9 = 603 elements: 151 threads (3 workgroups of 64, one of 256 with idle threads in the key prologue),
    // the last one owning 3 elements. 7 steps: 7 mod 2 = 1, 7 mod 4 = 3 tail steps. startStep wraps the low word.
    const [B, D, N] = [67, 9, 7];
    const x0 = tf.randomNormal([B, D], 0, 1.5, 'float32', 3) as tf.Tensor2D;
    const cases: Record<string, Record<string, unknown>> = {
      given: { x0, nSteps: N, key, startStep: 2 ** 32 - 3 },
      drawn: { x0Normal: { key: foldIn(key, 5), shape: [B, D] }, nSteps: N, key, startStep: 2 ** 32 - 5 },
    };
    for (const [name, inputs] of Object.entries(cases)) {
      const ref = await bits(TODAY, 'doubleWell', params, inputs);
      for (const v of VARIANTS) {
        expect(differing(await bits(v, 'doubleWell', params, inputs), ref), `${name} ${v}`).toBe(0);
      }
    }
    x0.dispose();
  });

  it('across two dispatches (1003 steps: the second one starts at step 1000), another kind, and sample()', async () => {
    const key = rngKey(4);
    const x0 = tf.randomNormal([5, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
    const long = { x0, nSteps: 1003, key, startStep: 17 };
    const dw = { barrierHeight: 2, b: 1 };
    const ref = await bits(TODAY, 'doubleWell', dw, long);
    for (const v of ['u4/w64/hoist/select', 'u2/w32/hoist', 'u2/w128/hoist/select']) {
      expect(differing(await bits(v, 'doubleWell', dw, long), ref), v).toBe(0);
    }
    const short = { x0, nSteps: 6, key, startStep: 0 };
    const rRef = await bits(TODAY, 'rastrigin', { a: 1 }, short);
    expect(differing(await bits('u4/w64/hoist/select', 'rastrigin', { a: 1 }, short), rRef)).toBe(0);
    x0.dispose();
    // The public path: sample() (x0 drawn by the kernel) picks the variant up.
    const sampler = new LangevinDynamics(new M.DoubleWell({ barrierHeight: 2, b: 1 }), settings);
    const run = async (v: string | undefined) => {
      setSeparableChainVariant(v);
      const r = await sampler.sample({ nSamples: 33, dim: 5, nSteps: 9, seed: 3, onNonFinite: 'ignore' });
      const d = (await r.samples.data()) as Float32Array;
      r.samples.dispose();
      return new Uint32Array(d.slice().buffer);
    };
    const sRef = await run(TODAY);
    expect(differing(await run('u4/w64/hoist/select'), sRef)).toBe(0);
    const cache = (tf.backend() as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache;
    expect(Object.keys(cache).some((k) => k.includes('_draw_u4_w64_hoist_select'))).toBe(true);
  });
});
