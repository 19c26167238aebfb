import { describe, expect, it } from 'vitest';
import { mlpHostEnergy, mlpUsesSimd } from './mlp.js';

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
  it.each(['silu', 'elu', 'leakyRelu', 'tanh'])('%s: energy and input gradient are right', (act) => {
    const e = mlpHostEnergy({ sizes, activation: act, leakySlope: 0.2, weights }, D);
    const phi = (s: number) =>
      act === 'silu'
        ? s / (1 + Math.exp(-s))
        : act === 'elu'
          ? s > 0
            ? s
            : Math.expm1(s)
          : act === 'leakyRelu'
            ? s < 0
              ? 0.2 * s
              : s
            : Math.tanh(s);
    const ref = (x: number[]) => {
      let h = x;
      for (let l = 0; l < 3; l++) {
        const [fin, fout] = [sizes[l]!, sizes[l + 1]!];
        const z = Array.from({ length: fout }, (_, j) => {
          let s = weights[2 * l + 1]![j]!;
          for (let k = 0; k < fin; k++) s += h[k]! * weights[2 * l]![k * fout + j]!;
          return s;
        });
        h = l < 2 ? z.map(phi) : z;
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
