import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';
import { largeNormals } from './large-normals.js';
import { lowerNormalQuantile } from './normal-quantile.js';
import { assertAllocation, assertFiniteNumber, assertNonNegative } from './validation.js';

/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011), keyed by a 64-bit key and a 128-bit counter.
 *
 * ## Streams
 * A {@link RngKey} is two uint32 words. Random tensors are a pure function of (key, shape): element `i` of the
 * row-major flattening is lane `i mod 4` of `philox4x32_10(counter = [b mod 2³², ⌊b/2³²⌋, 0, 0], key)` with
 * `b = ⌊i/4⌋`. Every word is used, and for a fixed dimension D, chain (row) r gets the same numbers whatever the
 * number of rows: adding chains never changes existing ones. A GPU kernel computes block b in thread b.
 *
 * ## Keys per step and per chain
 * - `foldIn(key, n)` derives an independent key from a key and an integer (use the step index: `foldIn(runKey, step)`).
 * - `splitKey(key, n)` derives `n` independent keys (use one per purpose: momentum, accept, noise).
 * Both hash through Philox itself with a counter tag distinct from the data counters.
 *
 * ## Conversions
 * - uniform: `((u >>> 9) + ½)·2⁻²³ = (2⌊u/2⁹⌋ + 1)·2⁻²⁴`, in [2⁻²⁴, 1 − 2⁻²⁴] ⊂ (0, 1), exact in float32.
 * - normal: inversion of each word, `bitsToNormal(u)` (Acklam's Φ⁻¹, relative error < 1.2e-9), symmetric
 *   around 2³¹ so both tails keep 32-bit resolution. One normal per word: no lane is wasted.
 * Uniform bits are identical on every backend; normals are identical on the host path and equal up to float32
 * rounding on GPU kernels.
 * @module
 */

/** A Philox key: two unsigned 32-bit words. Plain data: serialisable with JSON for checkpoints. */
export type RngKey = readonly [number, number];

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TAG_SPLIT = 0x5bd1e995;
const TAG_FOLD = 0x27d4eb2f;
const TWO_POW_32 = 4294967296;

const INV_2_32 = 1 / TWO_POW_32;

/**
 * One Philox4x32-10 block into `out[i..i+3]`. The high word of the 32×32-bit products is exact: the double
 * product M·c has absolute error ≤ 2¹¹, and M·c − lo is a multiple of 2³², so rounding recovers it.
 */
function philoxBlock(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  i: number,
): void {
  for (let round = 0; round < 10; round++) {
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi0 = Math.round((M0 * c0 - lo0) * INV_2_32);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const hi1 = Math.round((M1 * c2 - lo1) * INV_2_32);
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[i] = c0;
  out[i + 1] = c1;
  out[i + 2] = c2;
  out[i + 3] = c3;
}

/**
 * One Philox4x32-10 block: 10 rounds on a 4-word counter with a 2-word key. Writes 4 uint32 words into `out`
 * at `offset` (or into a new array).
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: RngKey,
  out: Uint32Array = new Uint32Array(4),
  offset = 0,
): Uint32Array {
  philoxBlock(
    counter[0] >>> 0,
    counter[1] >>> 0,
    counter[2] >>> 0,
    counter[3] >>> 0,
    key[0] >>> 0,
    key[1] >>> 0,
    out,
    offset,
  );
  return out;
}

function assertKey(key: unknown, name = 'key'): RngKey {
  if (
    !Array.isArray(key) ||
    key.length !== 2 ||
    !key.every((w) => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
  ) {
    throw new EbmError('INVALID_PARAM', `${name} must be an RngKey: two integers in [0, 2^32).`, {
      argument: name,
      value: key,
      fix: 'make keys with rngKey(seed), foldIn(key, n) or splitKey(key, n).',
    });
  }
  return key as unknown as RngKey;
}

/**
 * Makes a key from an integer seed (any safe integer, or a bigint; reduced modulo 2⁶⁴).
 * @example `const key = rngKey(42);`
 */
export function rngKey(seed: number | bigint): RngKey {
  let s: bigint;
  if (typeof seed === 'bigint') s = seed;
  else if (typeof seed === 'number' && Number.isSafeInteger(seed)) s = BigInt(seed);
  else {
    throw new EbmError('INVALID_PARAM', 'seed must be a safe integer or a bigint.', {
      argument: 'seed',
      value: seed,
      fix: 'pass an integer seed such as 0 or 1234.',
    });
  }
  const m = BigInt.asUintN(64, s);
  return Object.freeze([Number(m & 0xffffffffn), Number(m >> 32n)]) as unknown as RngKey;
}

/** True when `value` is a well-formed {@link RngKey}. */
export function isRngKey(value: unknown): value is RngKey {
  try {
    assertKey(value);
    return true;
  } catch {
    return false;
  }
}

/** Accepts a seed or a key and returns a key (validated). */
export function toKey(seedOrKey: number | bigint | RngKey, name = 'seed'): RngKey {
  if (Array.isArray(seedOrKey)) return assertKey(seedOrKey, name);
  return rngKey(seedOrKey as number | bigint);
}

/**
 * Derives an independent key from `key` and a non-negative integer `data` (< 2⁵³), e.g. the step index.
 * `foldIn(k, a) !== foldIn(k, b)` for `a !== b`, and neither collides with the data stream of `k`.
 */
export function foldIn(key: RngKey, data: number): RngKey {
  assertKey(key);
  if (!Number.isSafeInteger(data) || data < 0) {
    throw new EbmError('INVALID_PARAM', 'foldIn data must be a non-negative safe integer.', {
      argument: 'data',
      value: data,
      fix: 'pass the step or chain index as an integer >= 0.',
    });
  }
  const out = philox4x32([data >>> 0, Math.floor(data / TWO_POW_32) >>> 0, TAG_FOLD, 0], key);
  return Object.freeze([out[0]!, out[1]!]) as unknown as RngKey;
}

/** The most keys one {@link splitKey} call makes (2²⁴; beyond that use `foldIn(key, i)`). */
const MAX_SPLIT = 2 ** 24;

/** Derives `n` independent keys from `key` (default 2, at most 2²⁴). */
export function splitKey(key: RngKey, n = 2): RngKey[] {
  assertKey(key);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SPLIT) {
    throw new EbmError('INVALID_PARAM', `splitKey n must be an integer in [1, ${MAX_SPLIT}].`, {
      argument: 'n',
      value: n,
      fix:
        n > MAX_SPLIT
          ? 'derive keys on demand with foldIn(key, i) instead of splitting millions at once.'
          : 'ask for at least one key.',
    });
  }
  const keys: RngKey[] = [];
  const buf = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    philox4x32([i, 0, TAG_SPLIT, 0], key, buf);
    keys.push(Object.freeze([buf[0]!, buf[1]!]) as unknown as RngKey);
  }
  return keys;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new EbmError('INVALID_PARAM', 'shape must hold non-negative integers.', {
        argument: 'shape',
        value: shape,
        fix: 'pass a shape such as [nChains, dim].',
      });
    }
    n *= d;
  }
  assertAllocation('shape', n, 'ask for fewer random numbers (at most 2^28 per call).');
  return n;
}

/**
 * Raw Philox output for a tensor of `shape`, in row-major order: the uint32 words described in the module docs.
 */
export function randomBits(key: RngKey, shape: readonly number[]): Uint32Array {
  assertKey(key);
  return fillBits(key, new Uint32Array(sizeOf(shape)));
}

/**
 * Writes `map(word i)` into `out[i]` for the documented stream: word i is lane i mod 4 of block ⌊i/4⌋.
 * `map` is a compile-time constant per call site in practice (`makeFiller` builds one monomorphic copy each),
 * so V8 inlines it.
 */
function makeFiller(map: (u: number) => number) {
  return <A extends Uint32Array | Float32Array>(key: RngKey, out: A): A => {
    const k0 = key[0] >>> 0;
    const k1 = key[1] >>> 0;
    const n = out.length;
    const full = n >>> 2;
    const w = new Uint32Array(4);
    for (let b = 0; b < full; b++) {
      philoxBlock(b >>> 0, Math.floor(b / TWO_POW_32), 0, 0, k0, k1, w, 0);
      const i = 4 * b;
      out[i] = map(w[0]!);
      out[i + 1] = map(w[1]!);
      out[i + 2] = map(w[2]!);
      out[i + 3] = map(w[3]!);
    }
    const rest = n & 3;
    if (rest > 0) {
      philoxBlock(full >>> 0, Math.floor(full / TWO_POW_32), 0, 0, k0, k1, w, 0);
      for (let l = 0; l < rest; l++) out[4 * full + l] = map(w[l]!);
    }
    return out;
  };
}

/** Maps a uint32 to a float32-exact uniform in the open interval (0, 1). */
export function bitsToUniform(u: number): number {
  return ((u >>> 9) + 0.5) * 1.1920928955078125e-7; // (2·(u >>> 9) + 1)·2⁻²⁴: exact in float32, in [2⁻²⁴, 1 − 2⁻²⁴]
}

/** Uniform numbers in (lo, hi) for `shape`, on the host. */
export function uniformArray(key: RngKey, shape: readonly number[], lo = 0, hi = 1): Float32Array {
  assertKey(key);
  assertFiniteNumber('lo', lo);
  if (!(assertFiniteNumber('hi', hi) > lo)) {
    throw new EbmError('INVALID_PARAM', 'hi must be > lo.', {
      argument: 'hi',
      value: [lo, hi],
      fix: 'pass lo < hi.',
    });
  }
  const out = fillUniform(key, new Float32Array(sizeOf(shape)));
  if (lo !== 0 || hi !== 1) for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * out[i]!;
  return out;
}

/**
 * Maps a uint32 to a standard normal by inversion, symmetric around 2³¹: u < 2³¹ gives
 * −|Φ⁻¹(q)| with q = (u + ½)·2⁻³², otherwise +|Φ⁻¹(q)| with q = (2³² − 1 − u + ½)·2⁻³²; |z| ≤ 6.23.
 */
export function bitsToNormal(u: number): number {
  return u < 0x80000000
    ? lowerNormalQuantile((u + 0.5) * INV_2_32)
    : -lowerNormalQuantile((0xffffffff - u + 0.5) * INV_2_32);
}

/** Standard-normal numbers (times `stddev`, plus `mean`) for `shape`, on the host: `bitsToNormal` of the stream. */
export function normalArray(key: RngKey, shape: readonly number[], mean = 0, stddev = 1): Float32Array {
  assertKey(key);
  assertFiniteNumber('mean', mean);
  assertNonNegative('stddev', stddev);
  const n = sizeOf(shape);
  let out = new Float32Array(n);
  // Large draws (e.g. the x0 of a run) through the WebAssembly filler of the fused CPU kernels when it is
  // installed (large-normals.ts): the same numbers (tested), several times faster than the JS Philox below.
  const fill = largeNormals.fill;
  if (n < WASM_NORMALS_MIN || fill === undefined || !fill(key[0] >>> 0, key[1] >>> 0, n, out))
    out = fillNormal(key, out);
  if (mean !== 0 || stddev !== 1) for (let i = 0; i < out.length; i++) out[i] = mean + stddev * out[i]!;
  return out;
}

/** Elements from which {@link normalArray} uses the WebAssembly filler (below, instantiating it does not pay). */
const WASM_NORMALS_MIN = 4096;

const fillBits = makeFiller((u) => u);
const fillUniform = makeFiller(bitsToUniform);
const fillNormal = makeFiller(bitsToNormal);

/**
 * A serialisable key sequence for long runs: `next()` returns `foldIn(key, counter++)`.
 * Save `toJSON()` in a checkpoint and restore with `RngStream.fromJSON` to continue bit-identically.
 */
export class RngStream {
  private readonly key: RngKey;
  private counter: number;

  /** @param seedOrKey an integer seed or a key. @param counter where the sequence starts (default 0). */
  constructor(seedOrKey: number | bigint | RngKey, counter = 0) {
    this.key = toKey(seedOrKey);
    if (!Number.isSafeInteger(counter) || counter < 0) {
      throw new EbmError('INVALID_PARAM', 'RngStream counter must be a non-negative safe integer.', {
        argument: 'counter',
        value: counter,
        fix: 'start at 0 or at a counter saved by toJSON().',
      });
    }
    this.counter = counter;
  }

  /** The next key of the sequence. */
  next(): RngKey {
    return foldIn(this.key, this.counter++);
  }

  /** How many keys have been drawn. */
  get position(): number {
    return this.counter;
  }

  /** Plain-data state. */
  toJSON(): { key: [number, number]; counter: number } {
    return { key: [this.key[0], this.key[1]], counter: this.counter };
  }

  /** Restores a stream saved with {@link RngStream.toJSON}. */
  static fromJSON(state: { key: readonly [number, number]; counter: number }): RngStream {
    if (state === null || typeof state !== 'object') {
      throw new EbmError('INVALID_PARAM', 'RngStream.fromJSON needs the object from toJSON().', {
        argument: 'state',
        value: state,
        fix: 'pass the value returned by stream.toJSON().',
      });
    }
    return new RngStream(assertKey(state.key, 'state.key'), state.counter);
  }
}

/** Uniform (0,1) tensor of `shape` from `key`, host-generated (the reference path; same bits everywhere). */
export function uniformTensor(key: RngKey, shape: readonly number[], lo = 0, hi = 1): tf.Tensor {
  return tf.tensor(uniformArray(key, shape, lo, hi), [...shape], 'float32');
}

/** Normal tensor of `shape` from `key`, host-generated (the composite fallback of the `randomNormal` kernel). */
export function normalTensor(key: RngKey, shape: readonly number[], mean = 0, stddev = 1): tf.Tensor {
  return tf.tensor(normalArray(key, shape, mean, stddev), [...shape], 'float32');
}
