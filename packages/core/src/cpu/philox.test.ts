import { describe, expect, it } from 'vitest';
import { largeNormals } from '../large-normals.js';
import { foldIn, normalArray, rngKey, splitKey, uniformArray } from '../rng.js';
import './kernels.js'; // installs normalArray's wasm filler for large draws, as loading @ebm/core does
import { foldInRaw, normalRange, setWasmNormals, split2Raw, uniformAt } from './philox.js';
import { setSimdNormals, wasmNormals } from './philox-wasm.js';

describe('host Philox ranges (fused CPU kernels)', () => {
  it.each([true, false])(
    'normalRange (wasm: %s) draws exactly the elements of normalArray at any offset',
    (wasm) => {
      if (wasm) expect(wasmNormals()).not.toBeNull(); // Node has WebAssembly: the fast path is tested here
      const was = setWasmNormals(wasm);
      const key = rngKey(123);
      const full = normalArray(key, [1000]);
      for (const [start, count] of [
        [0, 1000],
        [1, 7],
        [3, 1],
        [5, 400],
        [997, 3],
        [4, 4],
      ] as const) {
        const out = new Float32Array(count + 2);
        normalRange(key[0], key[1], start, count, out, 1);
        expect(Array.from(out.subarray(1, 1 + count))).toEqual(
          Array.from(full.subarray(start, start + count)),
        );
        expect(out[0]).toBe(0);
        expect(out[count + 1]).toBe(0);
      }
      // Large draws: the wasm filler works in chunks of 16384 blocks.
      const big = normalArray(key, [70001]);
      const out = new Float32Array(70000);
      normalRange(key[0], key[1], 1, 70000, out, 0);
      expect(out).toEqual(big.subarray(1));
      setWasmNormals(was);
      // normalArray itself takes the wasm filler for large draws: the same numbers as its JavaScript Philox.
      const wasmBig = normalArray(key, [70001], 0.5, 2);
      const filler = largeNormals.fill;
      expect(filler).toBeTypeOf('function');
      largeNormals.fill = undefined;
      const jsBig = normalArray(key, [70001], 0.5, 2);
      largeNormals.fill = filler;
      expect(wasmBig).toEqual(jsBig);
    },
  );

  it('the SIMD filler is bit-identical to the JS reference (many keys and offsets, tails, partial blocks)', () => {
    expect(wasmNormals()?.simd).toBe(true); // Node 20 has WebAssembly SIMD: the SIMD module is the one tested
    const cases: [number, number, number, number][] = [
      [0, 0, 0, 1],
      [1, 2, 0, 17],
      [0xffffffff, 0xffffffff, 3, 4099],
      [123456, 0x80000000, 1000001, 2047],
      [7, 9, 4 * (2 ** 32 - 64), 250], // block counters near 2³²
      [0xdeadbeef, 42, 2 ** 33 + 2, 30], // counters ≥ 2³²: the JS path for those blocks
    ];
    for (let s = 0; s < 24; s++)
      cases.push([(s * 2654435761) >>> 0, (s * 40503) >>> 0, s * 37 + (s % 4), 3000 + s]);
    let tails = 0;
    for (const [k0, k1, start, count] of cases) {
      const simd = new Float32Array(count);
      const scalar = new Float32Array(count);
      const js = new Float32Array(count);
      normalRange(k0, k1, start, count, simd, 0);
      const wasSimd = setSimdNormals(false);
      normalRange(k0, k1, start, count, scalar, 0);
      setSimdNormals(wasSimd);
      const was = setWasmNormals(false);
      normalRange(k0, k1, start, count, js, 0);
      setWasmNormals(was);
      expect(simd).toEqual(js); // toEqual on typed arrays compares with Object.is per element
      expect(scalar).toEqual(js);
      for (const v of js) if (Math.abs(v) > 1.9724) tails++; // |z| beyond Φ⁻¹(0.02425): the tail branch
    }
    expect(tails).toBeGreaterThan(1000);
  });

  it('uniformAt, foldInRaw and split2Raw match uniformArray, foldIn and splitKey', () => {
    const key = rngKey(2 ** 40 + 17);
    const u = uniformArray(key, [37]);
    for (let i = 0; i < 37; i++) expect(uniformAt(key[0], key[1], i)).toBe(u[i]);
    const w = new Uint32Array(4);
    for (const d of [0, 1, 99, 2 ** 33 + 5]) {
      foldInRaw(key[0], key[1], d, w, 0);
      expect([w[0], w[1]]).toEqual([...foldIn(key, d)]);
    }
    split2Raw(key[0], key[1], w, 0);
    expect(Array.from(w)).toEqual(splitKey(key, 2).flat());
  });
});
