import {
  BLOCK,
  BR,
  BR_IF,
  END,
  F32_ADD,
  F32_CONST,
  F32_LOAD,
  F32_STORE,
  F32X4_ADD,
  F32X4_EXTRACT_LANE,
  F32X4_MUL,
  F32X4_SPLAT,
  GET,
  I32,
  I32_ADD,
  I32_CONST,
  I32_GE_U,
  I32_MUL,
  LOOP,
  SET,
  section,
  sleb,
  str,
  uleb,
  V128,
  V128_LOAD,
  V128_STORE,
  vec,
} from './wasm-asm.js';

/**
 * The two matrix products of the fused MLP kernel in WebAssembly SIMD (f32x4), assembled at load time:
 * - `axpy(h, n, fin, w, fout, z)`: `z[r, :] += Σ_k h[r, k]·W[k, :]` (forward, `z` pre-filled with the bias);
 * - `dot(dz, n, fout, w, fin, out)`: `out[r, k] = Σ_j dz[r, j]·W[k, j]` (backward, `dz · Wᵀ`).
 * Pointers are byte offsets into the module's memory; `fout` must be a multiple of 4. Accumulation is in
 * float32 (as tfjs-wasm's XNNPACK), so results agree with the composite path to float32 rounding.
 * No tfjs imports: this module runs inside worker threads. Internal module.
 * @module
 */

const i32c = (v: number) => [I32_CONST, ...sleb(BigInt(v | 0))];
const mem = (align: number, offset = 0) => [align, ...uleb(offset)];

/** axpy(h, n, fin, w, fout, z). */
function axpyBody(): number[] {
  const [h, n, fin, w, fout, z] = [0, 1, 2, 3, 4, 5];
  const [r, k, j, hrow, zrow, wrow, jEnd] = [6, 7, 8, 9, 10, 11, 12];
  const s = 13; // v128
  // biome-ignore format: assembly listing
  const code = [
    ...i32c(0), SET, r,
    GET, fout, ...i32c(4), I32_MUL, SET, jEnd,
    BLOCK, 0x40, LOOP, 0x40,
    GET, r, GET, n, I32_GE_U, BR_IF, 1,
    GET, h, GET, r, GET, fin, I32_MUL, ...i32c(4), I32_MUL, I32_ADD, SET, hrow,
    GET, z, GET, r, GET, jEnd, I32_MUL, I32_ADD, SET, zrow,
    ...i32c(0), SET, k,
    BLOCK, 0x40, LOOP, 0x40,
    GET, k, GET, fin, I32_GE_U, BR_IF, 1,
    GET, hrow, GET, k, ...i32c(4), I32_MUL, I32_ADD, F32_LOAD, ...mem(2), ...F32X4_SPLAT, SET, s,
    GET, w, GET, k, GET, jEnd, I32_MUL, I32_ADD, SET, wrow,
    ...i32c(0), SET, j,
    BLOCK, 0x40, LOOP, 0x40,
    GET, j, GET, jEnd, I32_GE_U, BR_IF, 1,
    GET, zrow, GET, j, I32_ADD,
    GET, zrow, GET, j, I32_ADD, ...V128_LOAD, ...mem(2),
    GET, s, GET, wrow, GET, j, I32_ADD, ...V128_LOAD, ...mem(2), ...F32X4_MUL,
    ...F32X4_ADD,
    ...V128_STORE, ...mem(2),
    GET, j, ...i32c(16), I32_ADD, SET, j,
    BR, 0,
    END, END,
    GET, k, ...i32c(1), I32_ADD, SET, k,
    BR, 0,
    END, END,
    GET, r, ...i32c(1), I32_ADD, SET, r,
    BR, 0,
    END, END,
    END,
  ];
  return [
    ...vec([
      [7, I32],
      [1, V128],
    ]),
    ...code,
  ];
}

/** dot(dz, n, fout, w, fin, out). */
function dotBody(): number[] {
  const [dz, n, fout, w, fin, out] = [0, 1, 2, 3, 4, 5];
  const [r, k, j, dzrow, orow, wrow, jEnd] = [6, 7, 8, 9, 10, 11, 12];
  const acc = 13; // v128
  const lane = (l: number) => [GET, acc, ...F32X4_EXTRACT_LANE, l];
  // biome-ignore format: assembly listing
  const code = [
    ...i32c(0), SET, r,
    GET, fout, ...i32c(4), I32_MUL, SET, jEnd,
    BLOCK, 0x40, LOOP, 0x40,
    GET, r, GET, n, I32_GE_U, BR_IF, 1,
    GET, dz, GET, r, GET, jEnd, I32_MUL, I32_ADD, SET, dzrow,
    GET, out, GET, r, GET, fin, I32_MUL, ...i32c(4), I32_MUL, I32_ADD, SET, orow,
    ...i32c(0), SET, k,
    BLOCK, 0x40, LOOP, 0x40,
    GET, k, GET, fin, I32_GE_U, BR_IF, 1,
    GET, w, GET, k, GET, jEnd, I32_MUL, I32_ADD, SET, wrow,
    F32_CONST, 0, 0, 0, 0, ...F32X4_SPLAT, SET, acc,
    ...i32c(0), SET, j,
    BLOCK, 0x40, LOOP, 0x40,
    GET, j, GET, jEnd, I32_GE_U, BR_IF, 1,
    GET, acc,
    GET, dzrow, GET, j, I32_ADD, ...V128_LOAD, ...mem(2),
    GET, wrow, GET, j, I32_ADD, ...V128_LOAD, ...mem(2), ...F32X4_MUL,
    ...F32X4_ADD, SET, acc,
    GET, j, ...i32c(16), I32_ADD, SET, j,
    BR, 0,
    END, END,
    GET, orow, GET, k, ...i32c(4), I32_MUL, I32_ADD,
    ...lane(0), ...lane(1), F32_ADD, ...lane(2), F32_ADD, ...lane(3), F32_ADD,
    F32_STORE, ...mem(2),
    GET, k, ...i32c(1), I32_ADD, SET, k,
    BR, 0,
    END, END,
    GET, r, ...i32c(1), I32_ADD, SET, r,
    BR, 0,
    END, END,
    END,
  ];
  return [
    ...vec([
      [7, I32],
      [1, V128],
    ]),
    ...code,
  ];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const six = vec([[I32], [I32], [I32], [I32], [I32], [I32]]);
  const types = vec([[0x60, ...six, ...vec([])]]);
  const imports = vec([[...str('m'), ...str('mem'), 0x02, 0x00, 1]]); // memory imported (min 1 page)
  const funcs = vec([[0], [0]]);
  const exports = vec([
    [...str('axpy'), 0x00, 0],
    [...str('dot'), 0x00, 1],
  ]);
  const body = (b: number[]) => [...uleb(b.length), ...b];
  const code = [...uleb(2), ...body(axpyBody()), ...body(dotBody())];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** An instance of the SIMD matrix products with its own memory. */
export interface WasmGemm {
  readonly memory: WebAssembly.Memory;
  axpy(h: number, n: number, fin: number, w: number, fout: number, z: number): void;
  dot(dz: number, n: number, fout: number, w: number, fin: number, out: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * A new instance with at least `bytes` of memory, or `null` where WebAssembly SIMD is unavailable (the MLP
 * kernel then uses its JavaScript loops).
 */
export function wasmGemm(bytes: number): WasmGemm | null {
  try {
    const W = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (W === undefined || compiled === null) return null;
    if (compiled === undefined) {
      const b = moduleBytes();
      compiled = W.validate(b) ? new W.Module(b) : null;
      if (compiled === null) return null;
    }
    const memory = new W.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
    const inst = new W.Instance(compiled, { m: { mem: memory } });
    const e = inst.exports as unknown as Omit<WasmGemm, 'memory'>;
    return { memory, axpy: e.axpy, dot: e.dot };
  } catch {
    compiled = null;
    return null;
  }
}
