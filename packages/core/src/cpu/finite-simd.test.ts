import { describe, expect, it } from 'vitest';
import { anyNonFiniteSimd, SIMD_SCAN_CHUNK, setSimdFiniteScan } from './finite-simd.js';

/** The words a float32 scan must flag: every exponent-all-ones pattern kind (±Inf, quiet / signalling NaN). */
const BAD = [0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xffffffff];
/** Finite edge words: ±max, ±min normal, a denormal, −0. */
const EDGE = [0x7f7fffff, 0xff7fffff, 0x00800000, 0x80800000, 0x00000001, 0x80000000];

describe('anyNonFiniteSimd (the WebAssembly SIMD finite scan)', () => {
  it('is available on Node and flags exactly the non-finite words, at every lane and chunk position', () => {
    const n = 2 * SIMD_SCAN_CHUNK + 37; // two whole chunks, a partial one and a 5-value JS tail
    const u = new Uint32Array(n);
    for (let i = 0; i < n; i++) u[i] = EDGE[i % EDGE.length]!;
    const f = new Float32Array(u.buffer);
    expect(anyNonFiniteSimd(f)).toBe(false);
    for (const at of [
      0,
      1,
      2,
      3,
      15,
      16,
      SIMD_SCAN_CHUNK - 1,
      SIMD_SCAN_CHUNK,
      2 * SIMD_SCAN_CHUNK + 31,
      n - 6,
      n - 1,
    ]) {
      for (const w of BAD) {
        const keep = u[at]!;
        u[at] = w;
        expect(anyNonFiniteSimd(f), `word ${w.toString(16)} at ${at}`).toBe(true);
        u[at] = keep;
      }
    }
    expect(anyNonFiniteSimd(f)).toBe(false);
  });

  it('scans views, short arrays and the empty array', () => {
    const u = new Uint32Array(100).fill(0x3f800000);
    u[3] = 0x7fc00000; // outside the view below
    const view = new Float32Array(u.buffer, 16, 80);
    expect(anyNonFiniteSimd(view)).toBe(false);
    expect(anyNonFiniteSimd(new Float32Array(u.buffer, 12, 1))).toBe(true);
    expect(anyNonFiniteSimd(new Float32Array(0))).toBe(false);
    for (let len = 1; len <= 40; len++) {
      const g = new Float32Array(len).fill(-2.5);
      expect(anyNonFiniteSimd(g)).toBe(false);
      g[len - 1] = Number.NEGATIVE_INFINITY;
      expect(anyNonFiniteSimd(g), `len ${len}`).toBe(true);
    }
  });

  it('can be switched off (the caller then scans in JS) and on again', () => {
    expect(setSimdFiniteScan(false)).toBe(true);
    expect(anyNonFiniteSimd(new Float32Array(64))).toBeUndefined();
    expect(setSimdFiniteScan(true)).toBe(false);
    expect(anyNonFiniteSimd(new Float32Array(64))).toBe(false);
  });
});
