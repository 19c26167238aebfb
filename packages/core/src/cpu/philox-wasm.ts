/**
 * Philox4x32-10 normals in a tiny WebAssembly module, assembled here at load time (no file to fetch, ~0.6 KB):
 * JavaScript has no 32×32→64-bit multiply, so a Philox round costs ~10 ns in JS and ~1 ns with wasm's `i64.mul`.
 * The module computes exactly what `rng.ts` computes — the same Philox words, then the same inverse-CDF
 * conversion (Acklam's rational function in f64 arithmetic, no fused multiply-adds in wasm; `log` imported from
 * `Math.log`; `f64.sqrt` is correctly rounded like `Math.sqrt`) and the same rounding to float32 — so normals are
 * bit-identical to `normalArray` (tested). Used by `philox.ts` when WebAssembly is available. Where the engine
 * validates WebAssembly SIMD, the module also holds the four-blocks-at-a-time filler of `philox-simd.ts` (same
 * numbers, ~2× faster), and `fill` is that one; the scalar module is the fallback.
 * No tfjs imports: this module runs inside worker threads. Internal module.
 * @module
 */

import { lowerNormalQuantile } from '../normal-quantile.js';
import { doubleWellGradBody, fillSimdBody, langevinBody } from './philox-simd.js';
import {
  BLOCK,
  BR,
  BR_IF,
  CALL,
  compileWasm,
  ELSE,
  END,
  F32,
  F32_DEMOTE,
  F32_STORE,
  F64,
  F64_ADD,
  F64_CONST,
  F64_CONVERT_I32_U,
  F64_DIV,
  F64_LT,
  F64_MUL,
  F64_NEG,
  F64_SQRT,
  F64_SUB,
  f64bytes,
  funcBody,
  GET,
  I32,
  I32_ADD,
  I32_GE_U,
  I32_LT_U,
  I32_NE,
  I32_SUB,
  I32_WRAP,
  I32_XOR,
  I64,
  I64_CONST,
  I64_EXTEND_U,
  I64_MUL,
  I64_SHR_U,
  IF,
  i32c,
  instantiateWasm,
  LOOP,
  SET,
  section,
  sleb,
  str,
  uleb,
  vec,
  WasmMemory,
  wasmBytes,
} from './wasm-asm.js';

const f64c = (v: number) => [F64_CONST, ...f64bytes(v)];

/** Horner: ((c[0]·x + c[1])·x + …)·x + c[n−1], x in local `x` (the evaluation order of normal-quantile.ts). */
function horner(coeffs: readonly number[], x: number): number[] {
  const out = [...f64c(coeffs[0]!)];
  for (let i = 1; i < coeffs.length; i++) out.push(GET, x, F64_MUL, ...f64c(coeffs[i]!), F64_ADD);
  return out;
}

// Acklam's coefficients (normal-quantile.ts).
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const Bc = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572, 1,
];
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const Dc = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416, 1];
const INV_2_32 = 1 / 4294967296;

/** func 1: lowq(p: f64) → f64, locals q (1), r (2). */
function lowqBody(): number[] {
  const p = 0;
  const q = 1;
  const r = 2;
  // biome-ignore format: one instruction per group reads like assembly
  const code = [
    // if (p < 0.02425) { q = sqrt(-2·log p); return C(q) / D(q) }
    GET, p, ...f64c(0.02425), F64_LT, IF, F64, ...f64c(-2), GET, p, CALL, 0, F64_MUL, F64_SQRT, SET, q,
    ...horner(C, q), ...horner(Dc, q), F64_DIV, ELSE,
    // q = p − ½; r = q²; return A(r)·q / B(r)
    GET, p, ...f64c(0.5), F64_SUB, SET, q, GET, q, GET, q, F64_MUL, SET, r, ...horner(A, r), GET, q, F64_MUL,
    ...horner(Bc, r), F64_DIV, END, END,
  ];
  return [...vec([[2, F64]]), ...code];
}

/** func 2: nrm(u: i32) → f64, the bitsToNormal of rng.ts. */
function nrmBody(): number[] {
  const u = 0;
  // biome-ignore format: one instruction per group reads like assembly
  const code = [
    GET, u, ...i32c(0x80000000), I32_LT_U, IF, F64, GET, u, F64_CONVERT_I32_U, ...f64c(0.5), F64_ADD,
    ...f64c(INV_2_32), F64_MUL, CALL, 1, ELSE, ...f64c(4294967295), GET, u, F64_CONVERT_I32_U, F64_SUB,
    ...f64c(0.5), F64_ADD, ...f64c(INV_2_32), F64_MUL, CALL, 1, F64_NEG, END, END,
  ];
  return [...vec([]), ...code];
}

/**
 * func 3: fill(k0, k1, b0, nBlocks, out): blocks b0 … b0 + nBlocks − 1 (counter [b, 0, 0, 0], b < 2³²) of the
 * normal stream as float32 at byte offset `out`.
 */
function fillBody(): number[] {
  const [k0, k1, b0, nb, out] = [0, 1, 2, 3, 4];
  const [b, end, c0, c1, c2, c3, q0, q1, r, lo0, hi0, lo1, hi1] = [
    5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
  ];
  const p = 18; // i64
  const M0 = 0xd2511f53n;
  const M1 = 0xcd9e8d57n;
  const store = (c: number, offset: number) => [
    GET,
    out,
    GET,
    c,
    CALL,
    2,
    F32_DEMOTE,
    F32_STORE,
    2,
    ...uleb(offset),
  ];
  // biome-ignore format: one instruction per group reads like assembly
  const code = [
    GET, b0, SET, b, GET, b0, GET, nb, I32_ADD, SET, end, BLOCK, 0x40, LOOP, 0x40, GET, b, GET, end, I32_GE_U,
    BR_IF, 1, GET, b, SET, c0, ...i32c(0), SET, c1, ...i32c(0), SET, c2, ...i32c(0), SET, c3, GET, k0, SET, q0,
    GET, k1, SET, q1, ...i32c(10), SET, r, LOOP, 0x40,
    // p = c0·M0 (64-bit); lo0, hi0
    GET, c0, I64_EXTEND_U, I64_CONST, ...sleb(M0), I64_MUL, SET, p, GET, p, I32_WRAP, SET, lo0, GET, p,
    I64_CONST, 32, I64_SHR_U, I32_WRAP, SET, hi0, GET, c2, I64_EXTEND_U, I64_CONST, ...sleb(M1), I64_MUL, SET,
    p, GET, p, I32_WRAP, SET, lo1, GET, p, I64_CONST, 32, I64_SHR_U, I32_WRAP, SET, hi1,
    // c0 = hi1 ^ c1 ^ q0; c1 = lo1; c2 = hi0 ^ c3 ^ q1; c3 = lo0
    GET, hi1, GET, c1, I32_XOR, GET, q0, I32_XOR, SET, c0, GET, lo1, SET, c1, GET, hi0, GET, c3, I32_XOR, GET,
    q1, I32_XOR, SET, c2, GET, lo0, SET, c3, GET, q0, ...i32c(0x9e3779b9), I32_ADD, SET, q0, GET, q1,
    ...i32c(0xbb67ae85), I32_ADD, SET, q1, GET, r, ...i32c(1), I32_SUB, SET, r, GET, r, ...i32c(0), I32_NE,
    BR_IF, 0, END, ...store(c0, 0), ...store(c1, 4), ...store(c2, 8), ...store(c3, 12), GET, out, ...i32c(16),
    I32_ADD, SET, out, GET, b, ...i32c(1), I32_ADD, SET, b, BR, 0, END, END, END,
  ];
  return [
    ...vec([
      [13, I32],
      [1, I64],
    ]),
    ...code,
  ];
}

function moduleBytes(simd: boolean): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[F64]]), ...vec([[F64]])], // 0: (f64) → f64
    [0x60, ...vec([[I32]]), ...vec([[F64]])], // 1: (i32) → f64
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])], // 2: (i32 ×5) → ()
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])], // 3: (i32 ×6) → i32
    [0x60, ...vec([[I32], [I32], [I32], [I32], [F32], [F32]]), ...vec([])], // 4: (i32 ×4, f32 ×2) → ()
    [0x60, ...vec([[I32], [I32], [I32], [F32], [F32]]), ...vec([])], // 5: (i32 ×3, f32 ×2) → ()
  ]);
  const imports = vec([[...str('m'), ...str('log'), 0x00, 0]]);
  // funcs 4, 5 (SIMD builds): fillSimd, exported as `fill` in place of the scalar func 3; the Langevin update.
  const funcs = vec(simd ? [[0], [1], [2], [3], [4], [5]] : [[0], [1], [2]]);
  const memory = vec([[0x00, 1]]);
  const exports = vec([
    [...str('mem'), 0x02, 0],
    [...str('fill'), 0x00, simd ? 4 : 3],
    ...(simd
      ? [
          [...str('langevin'), 0x00, 5],
          [...str('doubleWellGrad'), 0x00, 6],
        ]
      : []),
  ]);
  // biome-ignore format: one instruction per group reads like assembly
  const code = [
    ...uleb(simd ? 6 : 3),
    ...funcBody(lowqBody()),
    ...funcBody(nrmBody()),
    ...funcBody(fillBody()),
    ...(simd
      ? [...funcBody(fillSimdBody(3, A, Bc)), ...funcBody(langevinBody()), ...funcBody(doubleWellGradBody())]
      : []),
  ];
  return wasmBytes(
    section(1, types),
    section(2, imports),
    section(3, funcs),
    section(5, memory),
    section(7, exports),
    section(10, code),
  );
}

/** The wasm normal filler: `fill(k0, k1, b0, nBlocks)` returns a Float32Array view of 4·nBlocks normals. */
export interface WasmNormals {
  /** Whether this is the SIMD module. */
  readonly simd: boolean;
  /** Normals of blocks b0 … b0 + nBlocks − 1 (b < 2³²), valid until the next call. */
  fill(k0: number, k1: number, b0: number, nBlocks: number): Float32Array;
  /** The fused Langevin tile of the SIMD module (`undefined` for the scalar module). */
  readonly langevinTile?: (m: number) => LangevinTile;
}

/**
 * State and gradient of one tile of a Langevin chain (m floats each, m a multiple of 4) in the module's memory,
 * and the step that draws the tile's normals (blocks start/4 …) and applies `x ← (x − g·h) + z·amp` in place,
 * without the normals leaving wasm memory. Valid until the next `langevinTile` call.
 */
export interface LangevinTile {
  readonly x: Float32Array;
  readonly g: Float32Array;
  step(k0: number, k1: number, start: number, hf: number, ampf: number): void;
  /** g = (c4h·x)·(x² − b2) in f32x4 (the DoubleWell gradient with c4h = f32(4h), b2 = f32(b²)). */
  doubleWellGrad(c4h: number, b2: number): void;
}

let cached: WasmNormals | null | undefined;
let cachedScalar: WasmNormals | null | undefined;
let simdEnabled = true;

/** Turns the SIMD filler off/on (benchmarks and tests of the scalar module); returns the previous setting. */
export function setSimdNormals(on: boolean): boolean {
  const was = simdEnabled;
  simdEnabled = on;
  return was;
}

/** The most blocks one `fill` call draws (`philox.ts` calls in chunks of at most this many). */
export const MAX_FILL_BLOCKS = 16384;

/** `bitsToNormal` of `rng.ts` (for the tail lanes of the SIMD filler). */
function bitsToNormal(u: number): number {
  return u < 0x80000000
    ? lowerNormalQuantile((u + 0.5) * INV_2_32)
    : -lowerNormalQuantile((0xffffffff - u + 0.5) * INV_2_32);
}

function instantiate(simd: boolean): WasmNormals | null {
  // Feature detection: engines without SIMD reject the SIMD module (then the scalar module is used).
  const module = compileWasm(moduleBytes(simd), simd);
  const instance = module === null ? null : instantiateWasm(module, { m: { log: Math.log } });
  if (instance === null) return null;
  const mem = new WasmMemory(instance.exports.mem as WebAssembly.Memory);
  const fill = instance.exports.fill as (
    k0: number,
    k1: number,
    b0: number,
    n: number,
    out: number,
    list: number,
  ) => number;
  /** The tail lanes the SIMD filler listed from byte `list` to `end`: (byte address, u) pairs. */
  const tails = (list: number, end: number) => {
    const { f32, u32 } = mem;
    for (let a = list >> 2; a < end >> 2; a += 2) f32[u32[a]! >> 2] = bitsToNormal(u32[a + 1]!);
  };
  const normals: WasmNormals = {
    simd,
    fill(k0, k1, b0, nBlocks) {
      // Normals at [0, 16·n) bytes; SIMD: the tail list (8 bytes per lane at most) after them.
      mem.reserve((simd ? 48 : 16) * nBlocks);
      const list = 16 * nBlocks;
      const end = fill(k0 | 0, k1 | 0, b0 | 0, nBlocks, 0, list);
      if (simd) tails(list, end);
      return mem.f32.subarray(0, 4 * nBlocks);
    },
  };
  if (!simd) return normals;
  const langevin = instance.exports.langevin as (
    x: number,
    g: number,
    z: number,
    nBytes: number,
    hf: number,
    ampf: number,
  ) => void;
  const dwGrad = instance.exports.doubleWellGrad as (
    x: number,
    g: number,
    nBytes: number,
    c4h: number,
    b2: number,
  ) => void;
  return {
    ...normals,
    langevinTile(m) {
      // x and g after the largest region `fill` uses (48 bytes per block, WASM_CHUNK blocks), so no call of
      // `fill` grows the memory (which would detach these views) or overwrites them.
      const X = 48 * MAX_FILL_BLOCKS;
      const G = X + 4 * m;
      mem.reserve(G + 4 * m);
      const nb = m / 4;
      return {
        x: new Float32Array(mem.buffer, X, m),
        g: new Float32Array(mem.buffer, G, m),
        step(k0, k1, start, hf, ampf) {
          tails(16 * nb, fill(k0 | 0, k1 | 0, start / 4, nb, 0, 16 * nb));
          langevin(X, G, 0, 4 * m, hf, ampf);
        },
        doubleWellGrad(c4h, b2) {
          dwGrad(X, G, 4 * m, c4h, b2);
        },
      };
    },
  };
}

/**
 * The wasm filler — the SIMD module where the engine has WebAssembly SIMD (and {@link setSimdNormals} is on),
 * else the scalar module — or `null` where WebAssembly is unavailable (then `philox.ts` uses its JS path).
 */
export function wasmNormals(): WasmNormals | null {
  if (simdEnabled) {
    if (cached === undefined) cached = instantiate(true);
    if (cached !== null) return cached;
  }
  if (cachedScalar === undefined) cachedScalar = instantiate(false);
  return cachedScalar;
}
