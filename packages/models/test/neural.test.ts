import { normalArray, rngKey } from '@ebm/core';
import { expectEbmError, expectNoLeaks, testSeed } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  ConvEnergy,
  energyFromFunction,
  MLPEnergy,
  type NeuralEnergy,
  restoreEnergy,
} from '../src/index.js';
import { gradientRelativeError } from './helpers.js';

const created: { dispose(): void }[] = [];
function keep<T extends { dispose(): void }>(e: T): T {
  created.push(e);
  return e;
}
afterAll(() => {
  for (const e of created) e.dispose();
});

function batch(seed: string, n: number, d: number, scale = 1): tf.Tensor2D {
  return tf.tensor2d(normalArray(rngKey(testSeed(seed)), [n, d], 0, scale), [n, d]);
}

function values(e: NeuralEnergy, x: tf.Tensor2D): Float32Array {
  const out = e.energy(x);
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return Float32Array.from(v);
}

/** Largest singular value of a row-major [m, n] matrix (float64 power iteration on AᵀA). */
function spectralNorm(a: ArrayLike<number>, m: number, n: number): number {
  let v = new Float64Array(n).fill(1);
  let s = 0;
  for (let it = 0; it < 500; it++) {
    const u = new Float64Array(m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) u[i] = u[i]! + a[i * n + j]! * v[j]!;
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) w[j] = w[j]! + a[i * n + j]! * u[i]!;
    const norm = Math.hypot(...w);
    s = Math.sqrt(norm);
    v = w.map((x) => x / norm);
  }
  return s;
}

describe('MLPEnergy', () => {
  it('maps [B, D] to [B], is seeded (same seed → same weights) and has the documented parameter count', () => {
    const a = keep(new MLPEnergy({ inputDim: 3, widths: [16, 8], seed: 5 }));
    const b = keep(new MLPEnergy({ inputDim: 3, widths: [16, 8], seed: 5 }));
    const c = keep(new MLPEnergy({ inputDim: 3, widths: [16, 8], seed: 6 }));
    const x = batch('mlp-x', 10, 3);
    const ea = values(a, x);
    expect(ea.length).toBe(10);
    expect(Array.from(values(b, x))).toEqual(Array.from(ea));
    expect(Array.from(values(c, x))).not.toEqual(Array.from(ea));
    expect(a.parameterCount).toBe(3 * 16 + 16 + 16 * 8 + 8 + 8 + 1);
    expect(a.trainableVariables).toHaveLength(6);
    x.dispose();
  });

  for (const activation of ACTIVATIONS) {
    it(`${activation}: autograd ∇ₓE matches a central finite difference and leaks nothing`, async () => {
      const e = keep(new MLPEnergy({ inputDim: 2, widths: [8], activation, seed: 3 }));
      const x = batch(`fd-${activation}`, 4, 2);
      const g = e.gradient(x);
      const gd = g.arraySync();
      const xd = x.arraySync();
      // Central differences at h and h/2; a pair that disagrees straddles a kink of the activation
      // (LeakyReLU) and is skipped. At least 6 of the 8 partial derivatives must be checked.
      const fdAt = (h: number, j: number): Float32Array[] => {
        const plus = tf.tensor2d(xd.map((r) => r.map((v, k) => (k === j ? v + h : v))));
        const minus = tf.tensor2d(xd.map((r) => r.map((v, k) => (k === j ? v - h : v))));
        const out = [values(e, plus), values(e, minus)];
        tf.dispose([plus, minus]);
        return out;
      };
      let checked = 0;
      for (let j = 0; j < 2; j++) {
        const [p1, m1] = fdAt(4e-3, j);
        const [p2, m2] = fdAt(2e-3, j);
        for (let r = 0; r < 4; r++) {
          const fd1 = (p1![r]! - m1![r]!) / 8e-3;
          const fd2 = (p2![r]! - m2![r]!) / 4e-3;
          if (Math.abs(fd1 - fd2) > 2e-3 * Math.max(1, Math.abs(fd2))) continue;
          checked++;
          expect(Math.abs(fd2 - gd[r]![j]!)).toBeLessThan(5e-3 * Math.max(1, Math.abs(fd2)));
        }
      }
      expect(checked).toBeGreaterThanOrEqual(6);
      await expectNoLeaks(() => e.energy(x));
      await expectNoLeaks(() => e.gradient(x));
      await expectNoLeaks(() => e.energyAndGradient(x));
      tf.dispose([g, x]);
    });
  }

  it('trains with tf.train.adam().minimize without leaking, and the loss falls', async () => {
    const e = keep(new MLPEnergy({ inputDim: 2, widths: [16, 16], seed: 1, spectralNorm: true }));
    const data = batch('train-data', 64, 2, 0.5);
    const noise = batch('train-noise', 64, 2, 2);
    const opt = tf.train.adam(1e-2);
    // Contrastive objective with an L2 penalty: E(data) down, E(noise) up.
    const loss = () =>
      tf.tidy(() => {
        const ep = e.energy(data, { checkFinite: false });
        const en = e.energy(noise, { checkFinite: false });
        const reg = tf.mul(0.1, tf.add(tf.mean(tf.square(ep)), tf.mean(tf.square(en))));
        return tf.add(tf.sub(tf.mean(ep), tf.mean(en)), reg) as tf.Scalar;
      });
    const first = loss();
    const l0 = first.dataSync()[0]!;
    first.dispose();
    await expectNoLeaks(() => opt.minimize(loss, true, e.trainableVariables), { label: 'adam step' });
    for (let i = 0; i < 30; i++) tf.dispose(opt.minimize(loss, true, e.trainableVariables) ?? []);
    const last = loss();
    expect(last.dataSync()[0]!).toBeLessThan(l0 - 0.1);
    tf.dispose([last, data, noise]);
    opt.dispose();
  });

  it('spectral normalisation: power iteration converges to the top singular value (‖W/σ̂‖₂ → 1)', () => {
    class Probe extends MLPEnergy {
      normalised(i: number): tf.Tensor {
        const vars = this.namedVariables;
        const w = vars.find((v) => v.name === `dense${i}/kernel`)!.variable;
        const u = vars.find((v) => v.name === `dense${i}/sn_u`)!.variable;
        return this.spectralNormalize(w, u, 1);
      }
    }
    const p = keep(new Probe({ inputDim: 6, widths: [5], seed: 2, spectralNorm: { iterations: 1 } }));
    const w = p.namedVariables.find((v) => v.name === 'dense0/kernel')!.variable;
    const sigma = spectralNorm(w.dataSync(), 6, 5);
    let last = 0;
    for (let i = 0; i < 60; i++) {
      const t = tf.tidy(() => p.normalised(0));
      last = spectralNorm(t.dataSync(), 6, 5);
      t.dispose();
    }
    expect(Math.abs(last - 1)).toBeLessThan(1e-3);
    expect(sigma).toBeGreaterThan(0);
    // In eval mode the state does not move.
    p.training = false;
    const u = p.namedVariables.find((v) => v.name === 'dense0/sn_u')!.variable;
    const before = Array.from(u.dataSync());
    const x = batch('sn-x', 3, 6);
    tf.dispose(p.energy(x));
    expect(Array.from(u.dataSync())).toEqual(before);
    x.dispose();
  });

  it('widths [] gives a linear energy xᵀw + b; with spectral norm ‖∇ₓE‖ = 1', () => {
    const e = keep(new MLPEnergy({ inputDim: 4, widths: [], spectralNorm: true, seed: 3 }));
    const x = batch('linear', 5, 4);
    const gt = e.gradient(x);
    const g = gt.arraySync();
    gt.dispose();
    for (const row of g) {
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
      expect(row).toEqual(g[0]);
    }
    x.dispose();
  });

  it("per-layer activations ['relu', 'silu', 'silu']: energy and ∇ₓE are the unfused tfjs computation, save/restore keeps them, no leaks", async () => {
    const activation = ['relu', 'silu', 'silu'] as const;
    const e = keep(new MLPEnergy({ inputDim: 3, widths: [16, 12, 8], activation, seed: testSeed('mixed') }));
    expect(e.config.activation).toEqual(activation);
    expect(e.kernelHint?.params.activation).toEqual(activation);
    const x = batch('mixed-x', 9, 3, 1.5);
    // h₁ = relu(x·K₀ + b₀), h₂ = silu(h₁·K₁ + b₁), h₃ = silu(h₂·K₂ + b₂), E = h₃·K₃ + b₃ with plain tfjs ops.
    const plain = (v: tf.Tensor): tf.Tensor1D => {
      const ws = e.trainableVariables;
      let h = v;
      for (let l = 0; l < ws.length; l += 2) {
        h = tf.add(tf.matMul(h as tf.Tensor2D, ws[l] as tf.Tensor2D), ws[l + 1]!);
        if (l === 0) h = tf.relu(h);
        else if (l + 2 < ws.length) h = tf.mul(h, tf.sigmoid(h));
      }
      return tf.reshape(h, [-1]) as tf.Tensor1D;
    };
    const wantE = tf.tidy(() => plain(x).dataSync() as Float32Array);
    const wantG = tf.tidy(
      () =>
        tf
          .grad((v: tf.Tensor) => tf.sum(plain(v)))(x)
          .dataSync() as Float32Array,
    );
    const gotE = await expectNoLeaks(() => e.energy(x), { keepOutputs: true });
    const gotG = await expectNoLeaks(() => e.gradient(x), { keepOutputs: true });
    expect(Array.from(gotE.dataSync())).toEqual(Array.from(wantE));
    expect(Array.from(gotG.dataSync())).toEqual(Array.from(wantG));
    // The ReLU layer is active on some units and off on others (the test exercises both sides).
    const z0 = tf.tidy(() =>
      tf.add(tf.matMul(x, e.trainableVariables[0] as tf.Tensor2D), e.trainableVariables[1]!).dataSync(),
    );
    expect(z0.some((v) => v < 0) && z0.some((v) => v > 0)).toBe(true);
    const back = keep(restoreEnergy(JSON.stringify(e)) as MLPEnergy);
    expect(back.config.activation).toEqual(activation);
    expect(Array.from(values(back, x))).toEqual(Array.from(wantE));
    tf.dispose([gotE, gotG, x]);
  });

  it('per-layer activations: a wrong length or an unknown name is an EbmError naming activation', () => {
    const widths = [8, 8, 8];
    const wrong = expectEbmError(
      () => new MLPEnergy({ inputDim: 2, widths, activation: ['relu', 'silu'] }),
      'INVALID_PARAM',
      { argument: 'activation', message: /2 entries .* 3 hidden layers/ },
    );
    expect(wrong.value).toEqual(['relu', 'silu']);
    expect(wrong.fix).toContain("['relu', 'silu', 'silu']");
    const unknown = expectEbmError(
      () => new MLPEnergy({ inputDim: 2, widths, activation: ['relu', 'gelu' as never, 'silu'] }),
      'INVALID_PARAM',
      { argument: 'activation', message: /activation\[1\]/ },
    );
    expect(unknown.fix).toContain('"gelu"');
    expectEbmError(() => new MLPEnergy({ inputDim: 2, widths, activation: [] }), 'INVALID_PARAM', {
      argument: 'activation',
    });
    // A saved config with a bad activation list is refused before anything is built.
    const json = JSON.parse(
      JSON.stringify(keep(new MLPEnergy({ inputDim: 2, widths, activation: ['relu', 'silu', 'silu'] }))),
    );
    json.config.activation = ['relu', 'silu'];
    expectEbmError(() => restoreEnergy(json), 'INVALID_PARAM', { argument: 'config.activation' });
  });

  it('validates its options and its input', () => {
    expectEbmError(() => new MLPEnergy({ inputDim: 0 }), 'INVALID_PARAM');
    expectEbmError(() => new MLPEnergy({ inputDim: 2, widths: [0] }), 'INVALID_PARAM');
    expectEbmError(() => new MLPEnergy({ inputDim: 2, activation: 'gelu' as never }), 'INVALID_PARAM');
    expectEbmError(() => new MLPEnergy({ inputDim: 2, spectralNorm: { iterations: 0 } }), 'INVALID_PARAM');
    const e = keep(new MLPEnergy({ inputDim: 2, widths: [4] }));
    const bad = tf.zeros([3, 5]) as tf.Tensor2D;
    expectEbmError(() => e.energy(bad), 'SHAPE_MISMATCH');
    bad.dispose();
  });
});

describe('weights round-trip bit-exactly', () => {
  it('MLP (with spectral-norm state): binary artifact, JSON object and JSON string', async () => {
    const e = keep(
      new MLPEnergy({ inputDim: 3, widths: [7, 5], activation: 'elu', seed: 9, spectralNorm: true }),
    );
    const x = batch('rt-x', 6, 3);
    tf.dispose(e.energy(x)); // moves the power-iteration state
    e.training = false;
    const ref = values(e, x);
    const art = await e.saveWeights();
    const fromBin = keep(restoreEnergy(art));
    fromBin.training = false;
    expect(Array.from(values(fromBin, x))).toEqual(Array.from(ref));
    const json = JSON.stringify(e);
    const fromJson = keep(restoreEnergy(json));
    fromJson.training = false;
    expect(Array.from(values(fromJson, x))).toEqual(Array.from(ref));
    // Every stored value identical, bit for bit.
    const a = e.saveWeightsSync();
    const b = fromJson.saveWeightsSync();
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    expect(b.manifest).toEqual(a.manifest);
    x.dispose();
  });

  it('loadWeights refuses another architecture or a truncated payload, without writing', () => {
    const e = keep(new MLPEnergy({ inputDim: 2, widths: [4], seed: 1 }));
    const other = keep(new MLPEnergy({ inputDim: 2, widths: [5], seed: 1 }));
    expectEbmError(() => other.loadWeights(e.saveWeightsSync()), 'INVALID_PARAM');
    const art = e.saveWeightsSync();
    const target = keep(new MLPEnergy({ inputDim: 2, widths: [4], seed: 2 }));
    const before = target.saveWeightsSync().data;
    expectEbmError(
      () => target.loadWeights({ manifest: art.manifest, data: art.data.subarray(0, 8) }),
      'SHAPE_MISMATCH',
    );
    expect(Buffer.from(target.saveWeightsSync().data).equals(Buffer.from(before))).toBe(true);
    expectEbmError(() => restoreEnergy('{"format":"nope"}'), 'INVALID_PARAM');
    expectEbmError(() => restoreEnergy({ ...e.toJSON(), data: '!!!' }), 'INVALID_PARAM');
  });
});

describe('ConvEnergy', () => {
  for (const shape of [
    [28, 28, 1],
    [32, 32, 3],
  ] as const) {
    it(`${shape.join('×')}: [B, H·W·C] → [B], gradient shape, no leaks, save/load`, async () => {
      const e = keep(
        new ConvEnergy({ inputShape: shape, channels: [8, 16], seed: 4, spectralNorm: shape[2] === 3 }),
      );
      const d = shape[0] * shape[1] * shape[2];
      expect(e.dim).toBe(d);
      const x = batch(`conv-${d}`, 2, d);
      const en = e.energy(x);
      expect(en.shape).toEqual([2]);
      const g = e.gradient(x);
      expect(g.shape).toEqual([2, d]);
      tf.dispose([en, g]);
      e.training = false;
      await expectNoLeaks(() => e.energy(x));
      await expectNoLeaks(() => e.energyAndGradient(x));
      const opt = tf.train.adam(1e-3);
      await expectNoLeaks(() =>
        opt.minimize(() => tf.mean(e.energy(x)) as tf.Scalar, true, e.trainableVariables),
      );
      opt.dispose();
      const back = keep(restoreEnergy(e.toJSON()));
      back.training = false;
      expect(Array.from(values(back, x))).toEqual(Array.from(values(e, x)));
      x.dispose();
    });
  }

  it('is seeded: same seed → same energies, other seed → different', () => {
    const mk = (seed: number) => keep(new ConvEnergy({ inputShape: [8, 8, 2], channels: [4], seed }));
    const x = batch('conv-seed', 3, 128);
    expect(Array.from(values(mk(1), x))).toEqual(Array.from(values(mk(1), x)));
    expect(Array.from(values(mk(2), x))).not.toEqual(Array.from(values(mk(1), x)));
    x.dispose();
  });

  it('validates inputShape and channels', () => {
    expectEbmError(() => new ConvEnergy({ inputShape: [28, 28] as never }), 'INVALID_PARAM');
    expectEbmError(() => new ConvEnergy({ inputShape: [28, 28, 1], channels: [] }), 'INVALID_PARAM');
  });
});

describe('energyFromFunction', () => {
  it('wraps a function, uses autograd or the given analytic gradient, and checks the output shape', async () => {
    const quartic = energyFromFunction((x) => tf.sum(tf.pow(x, 4), 1) as tf.Tensor1D, {
      dim: 2,
      name: 'Quartic',
    });
    expect(quartic.name).toBe('Quartic');
    const x = tf.tensor2d([
      [1, 2],
      [-1, 0.5],
    ]);
    const e = quartic.energy(x);
    expect(Array.from(e.dataSync())).toEqual([17, 1.0625]);
    const g = quartic.gradient(x);
    expect(g.arraySync()).toEqual([
      [4, 32],
      [-4, 0.5],
    ]);
    let calls = 0;
    const analytic = energyFromFunction((v) => tf.sum(tf.pow(v, 4), 1) as tf.Tensor1D, {
      dim: 2,
      gradient: (v) => {
        calls++;
        return tf.mul(4, tf.pow(v, 3)) as tf.Tensor2D;
      },
    });
    expect(gradientRelativeError(analytic, x)).toBeLessThan(1e-6);
    expect(calls).toBe(1);
    await expectNoLeaks(() => analytic.energyAndGradient(x));
    await expectNoLeaks(() => quartic.energyAndGradient(x));
    const wrong = energyFromFunction((v) => tf.sum(v) as unknown as tf.Tensor1D);
    expectEbmError(() => wrong.energy(x), 'SHAPE_MISMATCH');
    const three = tf.zeros([1, 3]) as tf.Tensor2D;
    expectEbmError(() => quartic.energy(three), 'SHAPE_MISMATCH');
    expectEbmError(() => energyFromFunction(42 as never), 'INVALID_PARAM');
    tf.dispose([x, e, g, three]);
  });
});
