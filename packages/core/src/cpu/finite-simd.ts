import {
  BLOCK,
  BR,
  BR_IF,
  compileWasm,
  END,
  funcBody,
  GET,
  I32,
  I32_ADD,
  I32_GE_U,
  i32c,
  instantiateWasm,
  LOOP,
  SET,
  SIMD,
  section,
  str,
  V128,
  V128_AND,
  V128_ANY_TRUE,
  V128_CONST,
  V128_LOAD,
  vec,
  wasmBytes,
} from './wasm-asm.js';

/**
 * Whether float32 values hold NaN or ±Infinity, four lanes at a time in WebAssembly SIMD: the end-of-run finite
 * check of a whole chain scans the states it just read (131072 values for 4096 × 32), and V8 runs the scalar
 * bit scan at ~1 value per ns there (0.13 ms on the 2-core VM for a fresh read), this one at ~4 (0.03 ms, the copy
 * into the module's memory included). A float32 word w is non-finite iff (w & 0x7f800000) = 0x7f800000; the
 * module ORs `i32x4.eq(v & mask, mask)` over 64-byte strides of one 64 KiB page, which the caller fills chunk by
 * chunk (the memory never grows: the copy stays in cache). `null` where the engine has no WebAssembly SIMD (or
 * a CSP refuses compilation): the caller then scans in JS. No tfjs imports. Internal module.
 * @module
 */

const V128_OR = [SIMD, 0x50];
const I32X4_EQ = [SIMD, 0x37];
/** Bytes of the one page the caller copies into. */
const PAGE = 65536;
/** Float32 values per chunk (one page). */
export const SIMD_SCAN_CHUNK = PAGE / 4;

const MASK = [0x00, 0x00, 0x80, 0x7f]; // 0x7f800000, little-endian

/** `scan(n)`: 1 if some word of bytes [0, n) (n a multiple of 64) is a non-finite float32, else 0. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const n = 0; // parameter
  const p = 1; // byte offset
  const acc = 2; // v128: lanes all ones where a non-finite word was seen
  const mask = 3; // v128: 0x7f800000 in each lane
  const lane = (offset: number) => [
    GET,
    p,
    ...V128_LOAD,
    0x04,
    offset,
    GET,
    mask,
    ...V128_AND,
    GET,
    mask,
    ...I32X4_EQ,
    ...V128_OR,
  ];
  const body = [
    ...vec([
      [1, I32],
      [2, V128],
    ]),
    ...V128_CONST,
    ...MASK,
    ...MASK,
    ...MASK,
    ...MASK,
    SET,
    mask,
    BLOCK,
    0x40,
    LOOP,
    0x40,
    GET,
    p,
    GET,
    n,
    I32_GE_U,
    BR_IF,
    1,
    GET,
    acc,
    ...lane(0),
    ...lane(16),
    ...lane(32),
    ...lane(48),
    SET,
    acc,
    GET,
    p,
    ...i32c(64),
    I32_ADD,
    SET,
    p,
    BR,
    0,
    END,
    END,
    GET,
    acc,
    ...V128_ANY_TRUE,
    END,
  ];
  return wasmBytes(
    section(1, vec([[0x60, 1, I32, 1, I32]])), // type 0: (i32) -> i32
    section(3, vec([[0]])), // function 0: type 0
    section(5, vec([[0x00, 1]])), // memory: one page
    section(
      7,
      vec([
        [...str('scan'), 0x00, 0],
        [...str('mem'), 0x02, 0],
      ]),
    ),
    section(10, vec([funcBody(body)])),
  );
}

/** The compiled scanner and a float32 view of its page, or `null` without WebAssembly SIMD. */
interface Scanner {
  readonly scan: (bytes: number) => number;
  readonly page: Float32Array;
}

let scanner: Scanner | null | undefined;
let enabled = true;

/** Turns the SIMD scan off (the JS scan runs) or back on; returns the previous setting (a benchmark switch). */
export function setSimdFiniteScan(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

function load(): Scanner | null {
  const module = compileWasm(moduleBytes(), true);
  const instance = module === null ? null : instantiateWasm(module, {});
  if (instance === null) return null;
  const mem = instance.exports.mem as WebAssembly.Memory;
  return { scan: instance.exports.scan as (bytes: number) => number, page: new Float32Array(mem.buffer) };
}

/**
 * Whether `data` holds NaN or ±Infinity, or `undefined` where WebAssembly SIMD is not available. Whole chunks
 * of {@link SIMD_SCAN_CHUNK} values are copied into the module's page and scanned there; the last partial
 * 64 bytes (up to 15 values) are checked in JS.
 */
export function anyNonFiniteSimd(data: Float32Array): boolean | undefined {
  if (!enabled) return undefined;
  if (scanner === undefined) scanner = load();
  if (scanner === null) return undefined;
  const { scan, page } = scanner;
  const n = data.length;
  const whole = n - (n % 16); // values in 64-byte strides
  for (let i = 0; i < whole; i += SIMD_SCAN_CHUNK) {
    const m = Math.min(SIMD_SCAN_CHUNK, whole - i);
    page.set(data.subarray(i, i + m));
    if (scan(m * 4) !== 0) return true;
  }
  for (let i = whole; i < n; i++) if (!Number.isFinite(data[i]!)) return true;
  return false;
}
