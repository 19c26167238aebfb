import '@tensorflow/tfjs-backend-cpu';
import { isEbmError } from '@ebm/core';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mlpKernelHint, mlpLayout } from './mlp-energy.js';

// The WGSL MLP program reads core's one MLP hint format (MLPEnergy.kernelHint: { sizes, activation, leakySlope,
// weights }), with weights as live tensors or flat arrays, and still the 0.x `{ layers: [{ kernel, bias }] }`.
// Layout and flat weight buffer only: runs on the cpu backend (the programs are tested on webgpu elsewhere).

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mlpLayout reads the one MLP hint format', () => {
  it('MLPEnergy.kernelHint, a frozen array copy and the legacy layers format give one layout and buffer', async () => {
    const e = new MLPEnergy({ inputDim: 3, widths: [8, 4], activation: 'tanh', seed: 2 });
    const hint = e.kernelHint!;
    expect(mlpKernelHint(e)).toBe(hint);
    const vars = e.trainableVariables;
    const frozen = { ...hint.params, weights: vars.map((v) => Array.from(v.dataSync())) };
    const legacy = {
      layers: [0, 1, 2].map((l) => ({ kernel: vars[2 * l]!, bias: vars[2 * l + 1]! })),
      activation: 'tanh',
    };
    const before = tf.memory().numTensors;
    const flats: Float32Array[] = [];
    for (const p of [hint.params, frozen, legacy]) {
      const layout = mlpLayout(p as never, 3);
      expect(layout.widths).toEqual([3, 8, 4, 1]);
      expect(layout.wOff).toEqual([0, 32, 68]);
      expect(layout.bOff).toEqual([24, 64, 72]);
      const buf = layout.params();
      flats.push((await buf.data()) as Float32Array);
      buf.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(flats[1]).toEqual(flats[0]);
    expect(flats[2]).toEqual(flats[0]);
    // Live: the buffer is rebuilt from the variables at each call.
    vars[0]!.assign(tf.zerosLike(vars[0]!));
    const buf = mlpLayout(hint.params as never, 3).params();
    expect(Array.from((await buf.data()).slice(0, 24))).toEqual(new Array(24).fill(0));
    buf.dispose();
    e.dispose();
  });

  it('rejects a hint that does not fit the chains with INVALID_PARAM, unknown activations with NOT_IMPLEMENTED', () => {
    const e = new MLPEnergy({ inputDim: 3, widths: [8] });
    const p = e.kernelHint!.params;
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isEbmError(err) ? err.code : String(err);
      }
      return 'no error';
    };
    expect(code(() => mlpLayout(p as never, 4))).toBe('INVALID_PARAM');
    expect(code(() => mlpLayout({ ...p, weights: p.weights.slice(1) } as never, 3))).toBe('INVALID_PARAM');
    expect(code(() => mlpLayout({ ...p, sizes: [3, 9, 1] } as never, 3))).toBe('INVALID_PARAM');
    expect(code(() => mlpLayout({ ...p, activation: 'gelu' } as never, 3))).toBe('NOT_IMPLEMENTED');
    expect(code(() => mlpLayout({ ...p, activation: ['gelu'] } as never, 3))).toBe('NOT_IMPLEMENTED');
    expect(code(() => mlpLayout({ ...p, activation: ['relu', 'silu'] } as never, 3))).toBe('INVALID_PARAM');
    e.dispose();
    expect(code(() => mlpLayout(p as never, 3))).toBe('INVALID_PARAM');
  });
});

describe('per-layer activations', () => {
  const sizes = [2, 4, 4, 1];
  const weights = [[2, 4], [4], [4, 4], [4], [4, 1], [1]].map((s) => new Float32Array(s[0]! * (s[1] ?? 1)));
  const layout = (activation: unknown, leakySlope = 0.2) =>
    mlpLayout({ sizes, activation, leakySlope, weights } as never, 2);

  it('one activation (or an array of one) keeps the single-activation functions and key', () => {
    for (const a of ['silu', ['silu', 'silu'], ['silu', 'swish']]) {
      const l = layout(a);
      expect(l.act).toEqual(['', '']);
      expect(l.key).toBe('mlp_2x4x4x1_silu');
      expect(l.actCode).toContain('fn ebmAct(z : f32)');
    }
    expect(layout('swish').key).toBe('mlp_2x4x4x1_swish');
    expect(layout(['leakyRelu', 'leakyRelu'], 0.1).key).toBe('mlp_2x4x4x1_leakyRelu_0.1');
  });

  it('different activations: one WGSL pair per activation, a function per layer, a cache key per combination', () => {
    const l = layout(['relu', 'silu']);
    expect(l.activations).toEqual(['relu', 'silu']);
    expect(l.act).toEqual(['_relu', '_silu']);
    expect(l.actCode).toContain('fn ebmAct_relu(z : f32) -> f32 { return max(z, 0.0); }');
    expect(l.actCode).toContain('fn ebmActGrad_silu(z : f32)');
    expect(l.actCode).not.toContain('fn ebmAct(');
    const keys = [
      l.key,
      layout(['silu', 'relu']).key,
      layout('relu').key,
      layout('silu').key,
      layout(['relu', 'leakyRelu']).key,
      layout(['relu', 'leakyRelu'], 0.1).key,
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(l.key).toBe('mlp_2x4x4x1_relu-silu');
  });
});
