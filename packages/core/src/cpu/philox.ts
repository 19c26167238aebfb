import { lowerNormalQuantile } from '../normal-quantile.js';
import { type LangevinTile, MAX_FILL_BLOCKS, wasmNormals } from './philox-wasm.js';

/**
 * Philox4x32-10 over a range of the flat counter layout of `@ebm/core`'s rng (element `i` of a random tensor is
 * lane `i mod 4` of the block with counter `[⌊i/4⌋ mod 2³², ⌊i/4⌋ / 2³², 0, 0]`), for the fused CPU kernels:
 * any contiguous range of a tensor's stream can be drawn on its own, so a worker that owns rows `r0 … r1` of a
 * `[B, D]` noise tensor draws exactly the numbers `normalArray(key, [B, D])` holds there. No imports of tfjs:
 * this module also runs inside worker threads. Internal module.
 * @module
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TAG_FOLD = 0x27d4eb2f;
const INV_2_32 = 1 / 4294967296;

/** Scratch output of {@link philox}: the 4 words of the last block. */
const block = new Uint32Array(4);

// 16-bit halves of the multipliers: the high word of M·c is formed from four 16×16-bit products, all exact
// in int32/double arithmetic (faster in V8 than the double-product rounding of rng.ts; same result).
const M0L = M0 & 0xffff;
const M0H = M0 >>> 16;
const M1L = M1 & 0xffff;
const M1H = M1 >>> 16;

/** ⌊M0·c / 2³²⌋ for a uint32 c. */
function mulhi0(c: number): number {
  const cl = c & 0xffff;
  const ch = c >>> 16;
  const t = M0H * cl + ((M0L * cl) >>> 16);
  const w = (t & 0xffff) + M0L * ch;
  return (M0H * ch + (t >>> 16) + (w >>> 16)) >>> 0;
}

/** ⌊M1·c / 2³²⌋ for a uint32 c. */
function mulhi1(c: number): number {
  const cl = c & 0xffff;
  const ch = c >>> 16;
  const t = M1H * cl + ((M1L * cl) >>> 16);
  const w = (t & 0xffff) + M1L * ch;
  return (M1H * ch + (t >>> 16) + (w >>> 16)) >>> 0;
}

/** One Philox4x32-10 block into {@link block} (the same function as `rng.ts`'s `philox4x32`). */
function philox(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  for (let round = 0; round < 10; round++) {
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi0 = mulhi0(c0);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const hi1 = mulhi1(c2);
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  block[0] = c0;
  block[1] = c1;
  block[2] = c2;
  block[3] = c3;
}

/** `foldIn(key, data)` of `rng.ts` without validation, into `out[o]`, `out[o + 1]`. */
export function foldInRaw(k0: number, k1: number, data: number, out: Uint32Array, o: number): void {
  philox(data >>> 0, Math.floor(data / 4294967296) >>> 0, TAG_FOLD, 0, k0 >>> 0, k1 >>> 0);
  out[o] = block[0]!;
  out[o + 1] = block[1]!;
}

/** `splitKey(key, 2)` of `rng.ts` without validation: writes the two keys as 4 words into `out[o …]`. */
export function split2Raw(k0: number, k1: number, out: Uint32Array, o: number): void {
  philox(0, 0, 0x5bd1e995, 0, k0 >>> 0, k1 >>> 0);
  out[o] = block[0]!;
  out[o + 1] = block[1]!;
  philox(1, 0, 0x5bd1e995, 0, k0 >>> 0, k1 >>> 0);
  out[o + 2] = block[0]!;
  out[o + 3] = block[1]!;
}

/** Blocks per call of the wasm filler (bounds its memory). */
const WASM_CHUNK = MAX_FILL_BLOCKS;

let wasmEnabled = true;

/** Turns the WebAssembly normals off/on (tests of the JS path); returns the previous setting. */
export function setWasmNormals(on: boolean): boolean {
  const was = wasmEnabled;
  wasmEnabled = on;
  return was;
}

/**
 * The fused Langevin tile of the SIMD normal filler for tiles of m floats (m a multiple of 4), or `null` where
 * it is unavailable (no WebAssembly SIMD, wasm normals turned off): see `LangevinTile` in `philox-wasm.ts`.
 * Its step draws elements start … start + m − 1 of the stream (start a multiple of 4, (start + m)/4 ≤ 2³²).
 */
export function langevinTile(m: number): LangevinTile | null {
  if (!wasmEnabled || m % 4 !== 0 || m / 4 > MAX_FILL_BLOCKS) return null;
  return wasmNormals()?.langevinTile?.(m) ?? null;
}

/** `bitsToNormal` of `rng.ts`: inversion symmetric around 2³¹. */
function bitsToNormal(u: number): number {
  return u < 0x80000000
    ? lowerNormalQuantile((u + 0.5) * INV_2_32)
    : -lowerNormalQuantile((0xffffffff - u + 0.5) * INV_2_32);
}

/** `bitsToUniform` of `rng.ts`. */
export function bitsToUniform(u: number): number {
  return ((u >>> 9) + 0.5) * 1.1920928955078125e-7;
}

/**
 * Writes elements `start … start + count − 1` of the standard-normal stream of key `(k0, k1)` into
 * `out[o …]` (Float32Array, so rounded to float32 exactly like `normalArray`). `start + count < 2⁵³`.
 * The Philox rounds are inlined for whole blocks (the hot path of every fused chain).
 */
export function normalRange(
  k0: number,
  k1: number,
  start: number,
  count: number,
  out: Float32Array,
  o: number,
): void {
  let i = start;
  const end = start + count;
  // Leading partial block.
  if (i % 4 !== 0 && i < end) {
    const b = Math.floor(i / 4);
    philox(b >>> 0, Math.floor(b / 4294967296) >>> 0, 0, 0, k0, k1);
    for (let l = i - 4 * b; l < 4 && i < end; l++, i++) out[o++] = bitsToNormal(block[l]!);
  }
  const bEnd = Math.floor(end / 4);
  // Whole blocks in WebAssembly (64-bit multiplies), when available: the same numbers, ~5× faster.
  const wasm = wasmEnabled && bEnd <= 0xffffffff ? wasmNormals() : null;
  if (wasm !== null) {
    while (i + 4 <= end) {
      const n = Math.min(WASM_CHUNK, bEnd - i / 4);
      out.set(wasm.fill(k0, k1, i / 4, n), o);
      o += 4 * n;
      i += 4 * n;
    }
  }
  // Whole blocks in JavaScript, Philox inlined.
  // Block indices below 2³² (every tensor of < 2³⁴ elements) stay int32-typed: c1 = 0 (the fast case).
  const small = bEnd <= 0xffffffff;
  for (let b = i / 4; b < bEnd; b++) {
    let c0 = b >>> 0;
    let c1 = small ? 0 : Math.floor(b / 4294967296) >>> 0;
    let c2 = 0;
    let c3 = 0;
    let q0 = k0;
    let q1 = k1;
    for (let round = 0; round < 10; round++) {
      const lo0 = Math.imul(M0, c0) >>> 0;
      const hi0 = Math.round((M0 * c0 - lo0) * INV_2_32);
      const lo1 = Math.imul(M1, c2) >>> 0;
      const hi1 = Math.round((M1 * c2 - lo1) * INV_2_32);
      c0 = (hi1 ^ c1 ^ q0) >>> 0;
      c1 = lo1;
      c2 = (hi0 ^ c3 ^ q1) >>> 0;
      c3 = lo0;
      q0 = (q0 + W0) >>> 0;
      q1 = (q1 + W1) >>> 0;
    }
    out[o] = bitsToNormal(c0);
    out[o + 1] = bitsToNormal(c1);
    out[o + 2] = bitsToNormal(c2);
    out[o + 3] = bitsToNormal(c3);
    o += 4;
    i += 4;
  }
  // Trailing partial block.
  if (i < end) {
    const b = Math.floor(i / 4);
    philox(b >>> 0, Math.floor(b / 4294967296) >>> 0, 0, 0, k0, k1);
    for (let l = 0; i < end; l++, i++) out[o++] = bitsToNormal(block[l]!);
  }
}

/**
 * {@link normalRange} through the WebAssembly filler only: returns `false` (nothing written) where it is off or
 * unavailable, or the range reaches block counters ≥ 2³². (`normalArray` uses it for large draws.)
 */
export function normalRangeWasm(
  k0: number,
  k1: number,
  start: number,
  count: number,
  out: Float32Array,
  o: number,
): boolean {
  if (!wasmEnabled || (start + count) / 4 > 0xffffffff || wasmNormals() === null) return false;
  normalRange(k0, k1, start, count, out, o);
  return true;
}

/** Element `index` of the uniform (0, 1) stream of key `(k0, k1)` (float32-exact, as `uniformArray`). */
export function uniformAt(k0: number, k1: number, index: number): number {
  const b = Math.floor(index / 4);
  philox(b >>> 0, Math.floor(b / 4294967296) >>> 0, 0, 0, k0, k1);
  return bitsToUniform(block[index - 4 * b]!);
}
