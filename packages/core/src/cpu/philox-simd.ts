/**
 * The WebAssembly SIMD body of the Philox normal filler (`philox-wasm.ts` assembles it into its module when the
 * engine validates SIMD): four Philox4x32-10 blocks at once, one block per i32x4 lane, the 32×32→64-bit products
 * from `i64x2.extmul_{low,high}_i32x4_u`; then Acklam's central rational function on two f64x2 halves (the same
 * operations in the same order as `normal-quantile.ts` and the scalar module: wasm has no fused multiply-add and
 * f64x2 arithmetic is correctly rounded, so every lane equals the scalar result bit for bit) and the rounding
 * to float32. Lanes in the tails (p < 0.02425, about 4.9% of them) are listed for the caller, which converts them
 * with the JavaScript `bitsToNormal` (`Math.log`), so the output is exactly the scalar module's. Internal module.
 * @module
 */

import {
  BLOCK,
  BR,
  BR_IF,
  CALL,
  END,
  F32X4_ADD,
  F32X4_DEMOTE_F64X2_ZERO,
  F32X4_MUL,
  F32X4_SPLAT,
  F32X4_SUB,
  F64X2_ADD,
  F64X2_CONVERT_LOW_I32X4_U,
  F64X2_DIV,
  F64X2_MUL,
  F64X2_SUB,
  f64bytes,
  GET,
  I8X16_SHUFFLE,
  I32,
  I32_ADD,
  I32_AND,
  I32_GE_U,
  I32_LT_U,
  I32_STORE,
  I32_SUB,
  I32X4_ADD,
  I32X4_EXTRACT_LANE,
  I32X4_LE_U,
  I32X4_SHR_S,
  I32X4_SPLAT,
  I64X2_EXTMUL_HIGH_I32X4_U,
  I64X2_EXTMUL_LOW_I32X4_U,
  IF,
  i32c,
  LOOP,
  loop16,
  SET,
  V128,
  V128_AND,
  V128_ANY_TRUE,
  V128_CONST,
  V128_LOAD,
  V128_STORE,
  V128_XOR,
  vec,
} from './wasm-asm.js';

const i32x4c = (a: number, b: number, c: number, d: number) => [
  ...V128_CONST,
  ...Array.from(new Uint8Array(new Uint32Array([a, b, c, d]).buffer)),
];
const f64x2c = (v: number) => [...V128_CONST, ...f64bytes(v), ...f64bytes(v)];
/** i8x16.shuffle with byte-lane indices (0–15: first operand, 16–31: second). */
const shuffle = (lanes: number[]) => [...I8X16_SHUFFLE, ...lanes];
/** The high 32-bit words of two i64x2 vectors, as one i32x4. */
const HI_WORDS = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
/** The low 32-bit words of two i64x2 vectors, as one i32x4. */
const LO_WORDS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
/** Lanes 2, 3 of an i32x4 moved to lanes 0, 1. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** The low 8 bytes of each operand (two demoted f32 pairs into one f32x4). */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const INV_2_32 = 1 / 4294967296;
const P_LOW = 0.02425;

/** The largest t with (t + ½)·2⁻³² < 0.02425: lanes with t ≤ this are in the tail (the scalar test, exactly). */
export function tailThreshold(): number {
  let t = Math.floor(P_LOW * 4294967296);
  while ((t + 0.5) * INV_2_32 >= P_LOW) t--;
  while ((t + 1 + 0.5) * INV_2_32 < P_LOW) t++;
  return t;
}

/**
 * fillSimd(k0, k1, b0, nBlocks, out, list) → listEnd: as the scalar `fill` (function `fillIndex`), four blocks
 * per iteration; a remainder of < 4 blocks goes to the scalar `fill`. The tail lanes are left to the caller: their
 * (byte address, u) pairs are written from byte offset `list` on, and the end of that list is returned.
 * `A`, `B`: Acklam's central coefficients (highest power first, as in normal-quantile.ts).
 */
export function fillSimdBody(fillIndex: number, A: readonly number[], B: readonly number[]): number[] {
  const [k0, k1, b0, nb, out, list] = [0, 1, 2, 3, 4, 5];
  let next = 6;
  const b = next++;
  const end4 = next++;
  const nI32 = next - 6;
  const v = () => next++;
  const [C0, C1, C2, C3, lo0, hi0, lo1, hi1, t, p] = [v(), v(), v(), v(), v(), v(), v(), v(), v(), v()];
  const [q, r, lo, mask, m0, m1, sign, tail, pl, ph] = [v(), v(), v(), v(), v(), v(), v(), v(), v(), v()];
  const R = [v(), v(), v(), v()];
  const K0 = Array.from({ length: 10 }, v);
  const K1 = Array.from({ length: 10 }, v);
  const nV128 = next - 6 - nI32;

  /** Horner over the local `x` (f64x2): ((c₀·x + c₁)·x + …) + c_{n−1}. */
  const horner = (coeffs: readonly number[], x: number) => {
    const code: number[] = [...f64x2c(coeffs[0]!)];
    for (let i = 1; i < coeffs.length; i++)
      code.push(GET, x, ...F64X2_MUL, ...f64x2c(coeffs[i]!), ...F64X2_ADD);
    return code;
  };
  /** Central Acklam of the f64x2 on the stack (p = (t + ½)·2⁻³²), leaves the f64x2 value. */
  // biome-ignore format: assembly listing
  const central = () => [
    ...f64x2c(0.5), ...F64X2_ADD, ...f64x2c(INV_2_32), ...F64X2_MUL, SET, p,
    GET, p, ...f64x2c(0.5), ...F64X2_SUB, SET, q,
    GET, q, GET, q, ...F64X2_MUL, SET, r,
    ...horner(A, r), GET, q, ...F64X2_MUL, ...horner(B, r), ...F64X2_DIV,
  ];
  /** Normals of the word vector `c` (lane k = block k, word l) into R[l]; they belong at out + 16k + 4l. */
  const convert = (c: number, l: number) => {
    // biome-ignore format: assembly listing
    const code = [
      // t = u < 2³¹ ? u : 0xffffffff − u (= u ^ (u >>s 31)); the sign of the result is the top bit of u.
      GET, c, GET, c, ...i32c(31), ...I32X4_SHR_S, ...V128_XOR, SET, t,
      GET, t, ...F64X2_CONVERT_LOW_I32X4_U, ...central(), ...F32X4_DEMOTE_F64X2_ZERO, SET, lo,
      GET, lo, GET, t, GET, t, ...shuffle(HIGH_HALF), ...F64X2_CONVERT_LOW_I32X4_U, ...central(),
      ...F32X4_DEMOTE_F64X2_ZERO, ...shuffle(LOW_HALVES),
      GET, c, GET, sign, ...V128_AND, ...V128_XOR, SET, R[l]!,
    ];
    // Tail lanes: (byte address, u) appended to the list, without branches per lane; the caller converts them.
    code.push(GET, t, GET, tail, ...I32X4_LE_U, SET, mask, GET, mask, ...V128_ANY_TRUE, IF, 0x40);
    for (let k = 0; k < 4; k++) {
      code.push(GET, list, GET, out, ...i32c(16 * k + 4 * l), I32_ADD, I32_STORE, 2, 0);
      code.push(GET, list, GET, c, ...I32X4_EXTRACT_LANE, k, I32_STORE, 2, 4);
      code.push(GET, list, GET, mask, ...I32X4_EXTRACT_LANE, k, ...i32c(8), I32_AND, I32_ADD, SET, list);
    }
    code.push(END);
    return code;
  };
  /** One Philox round with round keys K0[i], K1[i]: the low and high words of both products from extmul. */
  // biome-ignore format: assembly listing
  const round = (i: number) => [
    GET, C0, GET, m0, ...I64X2_EXTMUL_LOW_I32X4_U, SET, pl, GET, C0, GET, m0, ...I64X2_EXTMUL_HIGH_I32X4_U, SET, ph,
    GET, pl, GET, ph, ...shuffle(LO_WORDS), SET, lo0, GET, pl, GET, ph, ...shuffle(HI_WORDS), SET, hi0,
    GET, C2, GET, m1, ...I64X2_EXTMUL_LOW_I32X4_U, SET, pl, GET, C2, GET, m1, ...I64X2_EXTMUL_HIGH_I32X4_U, SET, ph,
    GET, pl, GET, ph, ...shuffle(LO_WORDS), SET, lo1, GET, pl, GET, ph, ...shuffle(HI_WORDS), SET, hi1,
    GET, hi1, GET, C1, ...V128_XOR, GET, K0[i]!, ...V128_XOR, SET, C0,
    GET, lo1, SET, C1,
    GET, hi0, GET, C3, ...V128_XOR, GET, K1[i]!, ...V128_XOR, SET, C2,
    GET, lo0, SET, C3,
  ];
  const keys: number[] = [];
  for (let i = 0; i < 10; i++) {
    keys.push(GET, k0, ...i32c(Math.imul(i, W0)), I32_ADD, ...I32X4_SPLAT, SET, K0[i]!);
    keys.push(GET, k1, ...i32c(Math.imul(i, W1)), I32_ADD, ...I32X4_SPLAT, SET, K1[i]!);
  }
  const rounds: number[] = [];
  for (let i = 0; i < 10; i++) rounds.push(...round(i));
  const zero = i32x4c(0, 0, 0, 0);
  // The 4×4 transpose of R (word-major) into block-major order: four v128 stores.
  const U01 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]; // [a0, b0, a1, b1]
  const H01 = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31]; // [a2, b2, a3, b3]
  const LO64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const HI64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  // biome-ignore format: assembly listing
  const transposeStore = [
    GET, R[0]!, GET, R[1]!, ...shuffle(U01), SET, pl, GET, R[2]!, GET, R[3]!, ...shuffle(U01), SET, ph,
    GET, out, GET, pl, GET, ph, ...shuffle(LO64), ...V128_STORE, 2, 0,
    GET, out, GET, pl, GET, ph, ...shuffle(HI64), ...V128_STORE, 2, 16,
    GET, R[0]!, GET, R[1]!, ...shuffle(H01), SET, pl, GET, R[2]!, GET, R[3]!, ...shuffle(H01), SET, ph,
    GET, out, GET, pl, GET, ph, ...shuffle(LO64), ...V128_STORE, 2, 32,
    GET, out, GET, pl, GET, ph, ...shuffle(HI64), ...V128_STORE, 2, 48,
  ];
  // biome-ignore format: assembly listing
  const code = [
    ...keys,
    ...i32x4c(M0, M0, M0, M0), SET, m0, ...i32x4c(M1, M1, M1, M1), SET, m1,
    ...i32x4c(0x80000000, 0x80000000, 0x80000000, 0x80000000), SET, sign,
    ...(() => { const T = tailThreshold(); return i32x4c(T, T, T, T); })(), SET, tail,
    GET, b0, SET, b,
    GET, b0, GET, nb, ...i32c(-4), I32_AND, I32_ADD, SET, end4,
    BLOCK, 0x40, LOOP, 0x40,
    GET, b, GET, end4, I32_GE_U, BR_IF, 1,
    GET, b, ...I32X4_SPLAT, ...i32x4c(0, 1, 2, 3), ...I32X4_ADD, SET, C0,
    ...zero, SET, C1, ...zero, SET, C2, ...zero, SET, C3,
    ...rounds,
    ...convert(C0, 0), ...convert(C1, 1), ...convert(C2, 2), ...convert(C3, 3), ...transposeStore,
    GET, out, ...i32c(64), I32_ADD, SET, out,
    GET, b, ...i32c(4), I32_ADD, SET, b,
    BR, 0,
    END, END,
    // The remaining < 4 blocks.
    GET, b, GET, b0, GET, nb, I32_ADD, I32_LT_U, IF, 0x40,
    GET, k0, GET, k1, GET, b, GET, b0, GET, nb, I32_ADD, GET, b, I32_SUB, GET, out, CALL, fillIndex,
    END,
    GET, list,
    END,
  ];
  return [
    ...vec([
      [nI32, I32],
      [nV128, V128],
    ]),
    ...code,
  ];
}

/**
 * langevin(x, g, z, nBytes, hf, ampf): `x ← (x − g·h) + z·amp` over f32x4 lanes, each operation rounded to
 * float32 (the float32 order of `langevinStepComposite`, as the JavaScript loop with `Math.fround` per op; a
 * single f32 operation equals the fround of the double operation). Byte offsets; nBytes a multiple of 16.
 */
export function langevinBody(): number[] {
  const [x, g, z, nBytes, hf, ampf] = [0, 1, 2, 3, 4, 5];
  const i = 6;
  const [H, AMP] = [7, 8];
  // biome-ignore format: assembly listing
  const code = [
    GET, hf, ...F32X4_SPLAT, SET, H, GET, ampf, ...F32X4_SPLAT, SET, AMP,
    ...loop16(i, nBytes, [
      GET, x, GET, i, I32_ADD,
      GET, x, GET, i, I32_ADD, ...V128_LOAD, 4, 0,
      GET, g, GET, i, I32_ADD, ...V128_LOAD, 4, 0, GET, H, ...F32X4_MUL, ...F32X4_SUB,
      GET, z, GET, i, I32_ADD, ...V128_LOAD, 4, 0, GET, AMP, ...F32X4_MUL, ...F32X4_ADD,
      ...V128_STORE, 4, 0,
    ]),
    END,
  ];
  return [
    ...vec([
      [1, I32],
      [2, V128],
    ]),
    ...code,
  ];
}

/**
 * doubleWellGrad(x, g, nBytes, c4h, b2): `g = (4h·x)·(x² − b²)` over f32x4 lanes with c4h = f32(4h), b2 = f32(b²),
 * each operation rounded to float32: the float32 order of `host-energies.ts`'s DoubleWell gradient (and of the
 * composite), so the same numbers. Byte offsets; nBytes a multiple of 16.
 */
export function doubleWellGradBody(): number[] {
  const [x, g, nBytes, c4h, b2] = [0, 1, 2, 3, 4];
  const i = 5;
  const [C, B2, v] = [6, 7, 8];
  // biome-ignore format: assembly listing
  const code = [
    GET, c4h, ...F32X4_SPLAT, SET, C, GET, b2, ...F32X4_SPLAT, SET, B2,
    ...loop16(i, nBytes, [
      GET, x, GET, i, I32_ADD, ...V128_LOAD, 4, 0, SET, v,
      GET, g, GET, i, I32_ADD,
      GET, C, GET, v, ...F32X4_MUL, GET, v, GET, v, ...F32X4_MUL, GET, B2, ...F32X4_SUB, ...F32X4_MUL,
      ...V128_STORE, 4, 0,
    ]),
    END,
  ];
  return [
    ...vec([
      [1, I32],
      [3, V128],
    ]),
    ...code,
  ];
}
