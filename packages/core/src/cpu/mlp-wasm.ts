import {
  BLOCK,
  BR,
  BR_IF,
  compileWasm,
  ELSE,
  END,
  F32_CONST,
  F32X4_ADD,
  F32X4_DIV,
  F32X4_LOAD_SPLAT,
  F32X4_MAX,
  F32X4_MIN,
  F32X4_MUL,
  F32X4_NEAREST,
  F32X4_SPLAT,
  F32X4_SUB,
  funcBody,
  GET,
  I32,
  I32_ADD,
  I32_GE_S,
  I32_GE_U,
  I32_MUL,
  I32X4_ADD,
  I32X4_SHL,
  I32X4_TRUNC_SAT_F32X4_S,
  IF,
  i32c,
  instantiateWasm,
  LOOP,
  loop16,
  SET,
  section,
  str,
  uleb,
  V128,
  V128_CONST,
  V128_LOAD,
  V128_STORE,
  vec,
  WasmMemory,
  wasmBytes,
} from './wasm-asm.js';

/**
 * The matrix product of the fused MLP kernel in WebAssembly SIMD (f32x4), assembled at load time: one
 * register-blocked `gemm` serves the forward pass (`Z = H·K + b`) and the input-gradient backward pass
 * (`dH = dZ·Kᵀ`, with Kᵀ packed once when the energy is built). Pointers are byte offsets into the module's
 * memory. Accumulation is in float32 (as tfjs-wasm's XNNPACK), in another order than tfjs's composite
 * (`matMul` then `add`), so results agree with the composite to float32 rounding, not bit for bit.
 * No tfjs imports: this module runs inside worker threads. Internal module.
 * @module
 */

const mem = (align: number, offset = 0) => [align, ...uleb(offset)];

/**
 * gemm(a, K, b, N, c, n, bias): `C[n×N] = A[n×K]·B[K×N]` (+ the bias row `bias[0…N)` when `bias ≥ 0`), all
 * row-major float32 at byte offsets; n a multiple of 4, N a multiple of 8. Register-blocked: a 4×8 block of C
 * in eight f32x4 accumulators, one pass over k per block (two vector loads of B and four splat loads of A per k),
 * so each C element is `((bias + a₀b₀) + a₁b₁) + …` in float32.
 */
function gemmBody(): number[] {
  const [a, K, b, N, c, n, bias] = [0, 1, 2, 3, 4, 5, 6];
  const [r, j, a0, a1, a2, a3, aEnd, bp, rowA, rowB, cp] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const acc = [18, 19, 20, 21, 22, 23, 24, 25]; // acc[2i + h]: row i, columns j + 4h
  const [w0, w1, hv] = [26, 27, 28];
  const initAcc: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let h = 0; h < 2; h++) {
      initAcc.push(GET, bias, ...i32c(0), I32_GE_S, IF, V128);
      initAcc.push(GET, bias, GET, j, I32_ADD, ...V128_LOAD, ...mem(2, 16 * h));
      initAcc.push(ELSE, F32_CONST, 0, 0, 0, 0, ...F32X4_SPLAT, END, SET, acc[2 * i + h]!);
    }
  }
  const ap = [a0, a1, a2, a3];
  // Per k: w0, w1 = B[k, j … j+8); for each row i: hv = splat(A[i, k]); acc[i] += hv·w (two f32x4).
  const w = [w0, w1];
  const kBody: number[] = [GET, bp, ...V128_LOAD, ...mem(2), SET, w0];
  kBody.push(GET, bp, ...V128_LOAD, ...mem(2, 16), SET, w1);
  for (let i = 0; i < 4; i++) {
    kBody.push(GET, ap[i]!, ...F32X4_LOAD_SPLAT, ...mem(2), SET, hv);
    for (let h = 0; h < 2; h++) {
      const ac = acc[2 * i + h]!;
      kBody.push(GET, ac, GET, hv, GET, w[h]!, ...F32X4_MUL, ...F32X4_ADD, SET, ac);
    }
  }
  for (const p of ap) kBody.push(GET, p, ...i32c(4), I32_ADD, SET, p);
  kBody.push(GET, bp, GET, rowB, I32_ADD, SET, bp);
  const store: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let h = 0; h < 2; h++) {
      store.push(GET, cp, GET, acc[2 * i + h]!, ...V128_STORE, ...mem(2, 16 * h));
    }
    store.push(GET, cp, GET, rowB, I32_ADD, SET, cp); // C rows have N floats, as B rows
  }
  // biome-ignore format: assembly listing
  const code = [
    GET, K, ...i32c(4), I32_MUL, SET, rowA,
    GET, N, ...i32c(4), I32_MUL, SET, rowB,
    ...i32c(0), SET, r,
    BLOCK, 0x40, LOOP, 0x40,
    GET, r, GET, n, I32_GE_U, BR_IF, 1,
    ...i32c(0), SET, j,
    BLOCK, 0x40, LOOP, 0x40,
    GET, j, GET, rowB, I32_GE_U, BR_IF, 1,
    ...initAcc,
    GET, a, GET, r, GET, rowA, I32_MUL, I32_ADD, SET, a0,
    GET, a0, GET, rowA, I32_ADD, SET, a1,
    GET, a1, GET, rowA, I32_ADD, SET, a2,
    GET, a2, GET, rowA, I32_ADD, SET, a3,
    GET, a0, GET, rowA, I32_ADD, SET, aEnd,
    GET, b, GET, j, I32_ADD, SET, bp,
    BLOCK, 0x40, LOOP, 0x40,
    GET, a0, GET, aEnd, I32_GE_U, BR_IF, 1,
    ...kBody,
    BR, 0,
    END, END,
    GET, c, GET, r, GET, rowB, I32_MUL, I32_ADD, GET, j, I32_ADD, SET, cp,
    ...store,
    GET, j, ...i32c(32), I32_ADD, SET, j,
    BR, 0,
    END, END,
    GET, r, ...i32c(4), I32_ADD, SET, r,
    BR, 0,
    END, END,
    END,
  ];
  return [
    ...vec([
      [11, I32],
      [11, V128],
    ]),
    ...code,
  ];
}

const f32x4c = (v: number) => [...F32X4_SPLAT_CONST(v)];
/** v128.const of four copies of the float32 nearest v. */
function F32X4_SPLAT_CONST(v: number): number[] {
  const bytes = Array.from(new Uint8Array(new Float32Array([v]).buffer));
  return [...V128_CONST, ...bytes, ...bytes, ...bytes, ...bytes];
}

/**
 * eˣ of the f32x4 in local `x` onto the stack (Cephes' expf: x = n·ln2 + r, |r| ≤ ½ln2, a degree-7 polynomial
 * for eʳ, 2ⁿ added to the exponent bits; relative error ~1e-7, so results agree with `Math.exp` rounded to
 * float32 to an ulp or two); x clamped to [−87.3, 88.7] (eˣ of 0 … 3.3e38; SiLU needs no more). Uses locals
 * `n`, `r` (f32x4).
 */
function expBody(x: number, n: number, r: number): number[] {
  const P = [1.9875691e-4, 1.3981999e-3, 8.3334519e-3, 4.1665795e-2, 1.6666665e-1, 5.0000001e-1];
  const horner: number[] = [...f32x4c(P[0]!)];
  for (let i = 1; i < P.length; i++) horner.push(GET, r, ...F32X4_MUL, ...f32x4c(P[i]!), ...F32X4_ADD);
  // biome-ignore format: assembly listing
  return [
    GET, x, ...f32x4c(88.7), ...F32X4_MIN, ...f32x4c(-87.3), ...F32X4_MAX, SET, x,
    GET, x, ...f32x4c(Math.LOG2E), ...F32X4_MUL, ...F32X4_NEAREST, SET, n,
    GET, x, GET, n, ...f32x4c(0.693359375), ...F32X4_MUL, ...F32X4_SUB,
    GET, n, ...f32x4c(-2.12194440e-4), ...F32X4_MUL, ...F32X4_SUB, SET, r,
    // p = ((P·r)·r²) + r + 1, then · 2ⁿ through the exponent bits
    ...horner, GET, r, GET, r, ...F32X4_MUL, ...F32X4_MUL, GET, r, ...F32X4_ADD, ...f32x4c(1), ...F32X4_ADD,
    GET, n, ...I32X4_TRUNC_SAT_F32X4_S, ...i32c(23), ...I32X4_SHL, ...I32X4_ADD,
  ];
}

/** silu(z, h, sg, nBytes): d = 1 + e^(−z); h = z / d; sg = 1 / d (σ(z), kept for the backward pass). */
function siluBody(): number[] {
  const [z, h, sg, nBytes] = [0, 1, 2, 3];
  const i = 4;
  const [v, x, n, r, d] = [5, 6, 7, 8, 9];
  // biome-ignore format: assembly listing
  const body = [
    GET, z, GET, i, I32_ADD, ...V128_LOAD, ...mem(4), SET, v,
    ...f32x4c(0), GET, v, ...F32X4_SUB, SET, x,
    ...expBody(x, n, r), ...f32x4c(1), ...F32X4_ADD, SET, d,
    GET, h, GET, i, I32_ADD, GET, v, GET, d, ...F32X4_DIV, ...V128_STORE, ...mem(4),
    GET, sg, GET, i, I32_ADD, ...f32x4c(1), GET, d, ...F32X4_DIV, ...V128_STORE, ...mem(4),
  ];
  return [
    ...vec([
      [1, I32],
      [5, V128],
    ]),
    ...loop16(i, nBytes, body),
    END,
  ];
}

/** siluBack(up, z, sg, nBytes): up ← up · σ·(1 + z·(1 − σ)) (SiLU′ from the kept σ). */
function siluBackBody(): number[] {
  const [up, z, sg, nBytes] = [0, 1, 2, 3];
  const i = 4;
  const s = 5;
  // biome-ignore format: assembly listing
  const body = [
    GET, sg, GET, i, I32_ADD, ...V128_LOAD, ...mem(4), SET, s,
    GET, up, GET, i, I32_ADD,
    GET, up, GET, i, I32_ADD, ...V128_LOAD, ...mem(4),
    GET, s,
    ...f32x4c(1), GET, z, GET, i, I32_ADD, ...V128_LOAD, ...mem(4),
    ...f32x4c(1), GET, s, ...F32X4_SUB, ...F32X4_MUL, ...F32X4_ADD,
    ...F32X4_MUL, ...F32X4_MUL,
    ...V128_STORE, ...mem(4),
  ];
  return [
    ...vec([
      [1, I32],
      [1, V128],
    ]),
    ...loop16(i, nBytes, body),
    END,
  ];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const seven = vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]);
  const four = vec([[I32], [I32], [I32], [I32]]);
  const types = vec([
    [0x60, ...seven, ...vec([])],
    [0x60, ...four, ...vec([])],
  ]);
  const imports = vec([[...str('m'), ...str('mem'), 0x02, 0x00, 1]]); // memory imported (min 1 page)
  const funcs = vec([[0], [1], [1]]);
  const exports = vec([
    [...str('gemm'), 0x00, 0],
    [...str('silu'), 0x00, 1],
    [...str('siluBack'), 0x00, 2],
  ]);
  const code = [...uleb(3), ...funcBody(gemmBody()), ...funcBody(siluBody()), ...funcBody(siluBackBody())];
  return wasmBytes(
    section(1, types),
    section(2, imports),
    section(3, funcs),
    section(7, exports),
    section(10, code),
  );
}

/** An instance of the SIMD matrix products with its own memory. */
export interface WasmGemm {
  readonly memory: WebAssembly.Memory;
  /** `C[n×N] = A[n×K]·B[K×N]` (+ bias row when bias ≥ 0); byte offsets, n % 4 = 0, N % 8 = 0. */
  gemm(a: number, K: number, b: number, N: number, c: number, n: number, bias: number): void;
  /** SiLU of nBytes/4 floats at z into h, σ(z) into sg (byte offsets, nBytes a multiple of 16). */
  silu(z: number, h: number, sg: number, nBytes: number): void;
  /** up ← up · SiLU′(z) from the kept σ (byte offsets, nBytes a multiple of 16). */
  siluBack(up: number, z: number, sg: number, nBytes: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * A new instance with at least `bytes` of memory, or `null` where WebAssembly SIMD is unavailable (the MLP
 * kernel then uses its JavaScript loops).
 */
export function wasmGemm(bytes: number): WasmGemm | null {
  if (compiled === undefined) compiled = compileWasm(moduleBytes(), true);
  if (compiled === null) return null;
  let memory: WebAssembly.Memory;
  try {
    memory = WasmMemory.create(bytes).memory;
  } catch {
    return null; // more memory than the engine gives
  }
  const inst = instantiateWasm(compiled, { m: { mem: memory } });
  if (inst === null) return null;
  const e = inst.exports as unknown as Omit<WasmGemm, 'memory'>;
  return { memory, gemm: e.gemm, silu: e.silu, siluBack: e.siluBack };
}
