import { describe, expect, it } from 'vitest';
import { EbmError } from '../errors.js';
import { MLP_ACTIVATIONS, mlpHostEnergy, mlpUsesSimd } from './mlp.js';

// The fused MLP energy on host arrays against a float64 reference (energy) and central differences (gradient),
// on the WebAssembly SIMD path (hidden widths multiples of 4) and the JavaScript path.
const D = 5;
const rnd = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s) * 0.5);

describe.each([
  [16, 8],
  [12, 4], // SIMD path with hidden widths padded to multiples of 8
  [6, 3],
])('fused MLP, hidden widths %i, %i', (w1, w2) => {
  const sizes = [D, w1, w2, 1];
  const weights = [rnd(D * w1, 1), rnd(w1, 2), rnd(w1 * w2, 3), rnd(w2, 4), rnd(w2, 5), rnd(1, 6)];
  it('takes the expected path', () => {
    expect(mlpUsesSimd({ sizes })).toBe(w1 % 4 === 0 && w2 % 4 === 0);
  });
  // One activation for both hidden layers, or one per layer (names or MLP_ACTIVATIONS indices: 5 = relu).
  it.each<[string | (string | number)[]]>([
    ['silu'],
    ['elu'],
    ['leakyRelu'],
    ['tanh'],
    ['relu'],
    [['relu', 'silu']],
    [['tanh', 'leakyRelu']],
    [[5, 'elu']],
  ])('%s: energy and input gradient are right', (act) => {
    const e = mlpHostEnergy({ sizes, activation: act, leakySlope: 0.2, weights }, D);
    const names = (Array.isArray(act) ? act : [act, act]).map((a) =>
      typeof a === 'number' ? MLP_ACTIVATIONS[a]! : a,
    );
    const phiOf =
      (name: string) =>
      (s: number): number =>
        name === 'silu'
          ? s / (1 + Math.exp(-s))
          : name === 'elu'
            ? s > 0
              ? s
              : Math.expm1(s)
            : name === 'leakyRelu'
              ? s < 0
                ? 0.2 * s
                : s
              : name === 'relu'
                ? Math.max(s, 0)
                : Math.tanh(s);
    const phis = names.map(phiOf);
    const ref = (x: number[]) => {
      let h = x;
      for (let l = 0; l < 3; l++) {
        const [fin, fout] = [sizes[l]!, sizes[l + 1]!];
        const z = Array.from({ length: fout }, (_, j) => {
          let s = weights[2 * l + 1]![j]!;
          for (let k = 0; k < fin; k++) s += h[k]! * weights[2 * l]![k * fout + j]!;
          return s;
        });
        h = l < 2 ? z.map(phis[l]!) : z;
      }
      return h[0]!;
    };
    const n = 70; // more than one tile of 64 rows
    const x = Float32Array.from({ length: n * D }, (_, i) => Math.cos(i * 0.3) * 2);
    const g = new Float32Array(n * D);
    const en = new Float32Array(n);
    e.grad(x, 0, g, 0, n, D);
    e.energy(x, 0, en, 0, n, D);
    for (let r = 0; r < n; r++) {
      const xr = Array.from(x.subarray(r * D, r * D + D));
      expect(Math.abs(ref(xr) - en[r]!)).toBeLessThan(1e-5);
      for (let k = 0; k < D; k++) {
        const [a, b] = [[...xr], [...xr]];
        a[k]! += 1e-5;
        b[k]! -= 1e-5;
        expect(Math.abs((ref(a) - ref(b)) / 2e-5 - g[r * D + k]!)).toBeLessThan(1e-5);
      }
    }
  });
});

describe('fused MLP activation validation', () => {
  const sizes = [2, 4, 4, 1];
  const weights = [
    new Float32Array(8),
    new Float32Array(4),
    new Float32Array(16),
    new Float32Array(4),
    new Float32Array(4),
    new Float32Array(1),
  ];
  it.each<[unknown]>([
    ['gelu'],
    [['relu']],
    [['relu', 'silu', 'silu']],
    [['relu', 'gelu']],
    [[9, 'silu']],
    [undefined],
  ])('activation %j is refused with an EbmError naming params.activation', (activation) => {
    let err: unknown;
    try {
      mlpHostEnergy({ sizes, activation, leakySlope: 0.2, weights }, 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EbmError);
    expect((err as EbmError).code).toBe('INVALID_PARAM');
    expect((err as EbmError).argument).toBe('params.activation');
    expect((err as EbmError).fix).toMatch(/relu/);
  });
});
