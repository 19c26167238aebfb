/**
 * A minimal WebAssembly assembler (LEB128, sections, opcodes) and loader for the tiny modules of the fused CPU
 * kernels (the Philox normal filler, scalar and SIMD, and the MLP's matrix products), which are assembled at load
 * time so that no .wasm file has to be found next to a bundle. Internal module.
 * @module
 */

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function f64bytes(x: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([x]).buffer));
}

/** The engine's WebAssembly, or `undefined`. */
function wasmApi(): typeof WebAssembly | undefined {
  return (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
}

/** A module's bytes: the magic number and version, then the sections (each from {@link section}) in order. */
export function wasmBytes(...sections: number[][]): Uint8Array<ArrayBuffer> {
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);
}

/**
 * Compiles a module, or returns `null` where it cannot run here: no WebAssembly, a module the engine does not
 * validate (a SIMD module on an engine without SIMD: pass `validate`), or compilation refused (a page's CSP
 * without 'wasm-unsafe-eval').
 */
export function compileWasm(bytes: Uint8Array<ArrayBuffer>, validate = false): WebAssembly.Module | null {
  const W = wasmApi();
  if (W === undefined) return null;
  try {
    if (validate && !W.validate(bytes)) return null;
    return new W.Module(bytes);
  } catch {
    return null;
  }
}

/** An instance of a compiled module, or `null` where instantiating fails. */
export function instantiateWasm(
  module: WebAssembly.Module,
  imports: WebAssembly.Imports,
): WebAssembly.Instance | null {
  const W = wasmApi();
  if (W === undefined) return null;
  try {
    return new W.Instance(module, imports);
  } catch {
    return null;
  }
}

/**
 * A module's linear memory with float32 and uint32 views over all of it that follow its growth: after
 * {@link WasmMemory.reserve} grew it, views taken earlier are detached, so re-take them (`f32`, `u32`, `buffer`).
 */
export class WasmMemory {
  f32: Float32Array;
  u32: Uint32Array;

  constructor(readonly memory: WebAssembly.Memory) {
    this.f32 = new Float32Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
  }

  /** A new memory of at least `bytes` (one page at least). */
  static create(bytes: number): WasmMemory {
    return new WasmMemory(new (wasmApi()!.Memory)({ initial: Math.max(1, Math.ceil(bytes / 65536)) }));
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Grows the memory to at least `bytes`; returns whether it grew (then earlier views are detached). */
  reserve(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (have >= bytes) return false;
    this.memory.grow(Math.ceil((bytes - have) / 65536));
    this.f32 = new Float32Array(this.memory.buffer);
    this.u32 = new Uint32Array(this.memory.buffer);
    return true;
  }
}

export const str = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
/** A function body of the code section: its byte length, then the body (locals and code). */
export const funcBody = (body: number[]) => [...uleb(body.length), ...body];

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
// opcodes (the WebAssembly core spec, binary format)
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const IF = 0x04;
export const ELSE = 0x05;
export const END = 0x0b;
export const BR = 0x0c;
export const BR_IF = 0x0d;
export const CALL = 0x10;
export const GET = 0x20;
export const SET = 0x21;
export const F32_STORE = 0x38;
export const I32_CONST = 0x41;
export const I64_CONST = 0x42;
export const F64_CONST = 0x44;
export const I32_NE = 0x47;
export const I32_LT_U = 0x49;
export const I32_GE_U = 0x4f;
export const F64_LT = 0x63;
export const I32_ADD = 0x6a;
export const I32_SUB = 0x6b;
export const I32_XOR = 0x73;
export const I64_MUL = 0x7e;
export const I64_SHR_U = 0x88;
export const F64_NEG = 0x9a;
export const F64_SQRT = 0x9f;
export const F64_ADD = 0xa0;
export const F64_SUB = 0xa1;
export const F64_MUL = 0xa2;
export const F64_DIV = 0xa3;
export const I32_WRAP = 0xa7;
export const I64_EXTEND_U = 0xad;
export const F32_DEMOTE = 0xb6;
export const F64_CONVERT_I32_U = 0xb8;

export const I32_LOAD = 0x28;
export const F32_LOAD = 0x2a;
export const I32_STORE = 0x36;
export const F32_CONST = 0x43;
export const I32_MUL = 0x6c;
export const F32_ADD = 0x92;
export const V128 = 0x7b;
/** SIMD opcodes: prefix 0xfd, then the LEB128 of the instruction number. */
export const SIMD = 0xfd;
export const V128_LOAD = [SIMD, 0x00];
export const V128_STORE = [SIMD, 0x0b];
export const F32X4_SPLAT = [SIMD, 0x13];
export const F32X4_EXTRACT_LANE = [SIMD, 0x1f];
export const F32X4_ADD = [SIMD, 0xe4, 0x01];
export const F32X4_MUL = [SIMD, 0xe6, 0x01];
export const F64X2_SPLAT = [SIMD, 0x14];
export const V128_CONST = [SIMD, 0x0c];
export const I8X16_SHUFFLE = [SIMD, 0x0d];
export const I32X4_SPLAT = [SIMD, 0x11];
export const I32X4_EXTRACT_LANE = [SIMD, 0x1b];
export const I32X4_LE_U = [SIMD, 0x3e];
export const V128_AND = [SIMD, 0x4e];
export const V128_XOR = [SIMD, 0x51];
export const V128_ANY_TRUE = [SIMD, 0x53];
export const F32X4_DEMOTE_F64X2_ZERO = [SIMD, 0x5e];
export const I32X4_SHR_S = [SIMD, 0xac, 0x01];
export const I32X4_ADD = [SIMD, 0xae, 0x01];
export const I32X4_MUL = [SIMD, 0xb5, 0x01];
export const I64X2_EXTMUL_LOW_I32X4_U = [SIMD, 0xde, 0x01];
export const I64X2_EXTMUL_HIGH_I32X4_U = [SIMD, 0xdf, 0x01];
export const F64X2_ADD = [SIMD, 0xf0, 0x01];
export const F64X2_SUB = [SIMD, 0xf1, 0x01];
export const F64X2_MUL = [SIMD, 0xf2, 0x01];
export const F64X2_DIV = [SIMD, 0xf3, 0x01];
export const F64X2_CONVERT_LOW_I32X4_U = [SIMD, 0xff, 0x01];
export const F32X4_LOAD_SPLAT = [SIMD, 0x09];
export const I32_AND = 0x71;
export const F32 = 0x7d;
export const F32X4_SUB = [SIMD, 0xe5, 0x01];
export const I32_GE_S = 0x4e;
export const F32X4_DIV = [SIMD, 0xe7, 0x01];
export const F32X4_MIN = [SIMD, 0xe8, 0x01];
export const F32X4_MAX = [SIMD, 0xe9, 0x01];
export const F32X4_NEAREST = [SIMD, 0x6a];
export const I32X4_TRUNC_SAT_F32X4_S = [SIMD, 0xf8, 0x01];
export const I32X4_SHL = [SIMD, 0xab, 0x01];

/** `i32.const v` (v taken as a signed 32-bit integer). */
export const i32c = (v: number) => [I32_CONST, ...sleb(BigInt(v | 0))];

/** A loop over i = 0, 16, … < nBytes (local `i`, bound `nBytes`: one f32x4 lane group a pass) around `body`. */
export function loop16(i: number, nBytes: number, body: number[]): number[] {
  // biome-ignore format: assembly listing
  return [
    ...i32c(0), SET, i,
    BLOCK, 0x40, LOOP, 0x40,
    GET, i, GET, nBytes, I32_GE_U, BR_IF, 1,
    ...body,
    GET, i, ...i32c(16), I32_ADD, SET, i,
    BR, 0,
    END, END,
  ];
}
