import { describe, expect, it } from 'vitest';
import { foldIn, normalArray, rngKey, splitKey, uniformArray } from '../rng.js';
import { foldInRaw, normalRange, setWasmNormals, split2Raw, uniformAt } from './philox.js';
import { wasmNormals } from './philox-wasm.js';

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
    },
  );

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
