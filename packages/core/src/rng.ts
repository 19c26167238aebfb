import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';

/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011), keyed by a 64-bit key and a 128-bit counter.
 *
 * ## Streams
 * A {@link RngKey} is two uint32 words. Random tensors are a pure function of (key, shape): for a tensor of
 * shape `[rows, ...rest]` viewed as `[rows, cols]` (a scalar is `[1, 1]`, a vector `[n]` is `[n, 1]`), element
 * `(r, c)` comes from lane `c mod 4` of `philox4x32_10(counter = [⌊c/4⌋, r, 0, 0], key)`. So row `r` (a chain)
 * gets the same numbers whatever the number of rows: adding chains never changes existing ones.
 *
 * ## Keys per step and per chain
 * - `foldIn(key, n)` derives an independent key from a key and an integer (use the step index: `foldIn(runKey, step)`).
 * - `splitKey(key, n)` derives `n` independent keys (use one per purpose: momentum, accept, noise).
 * Both hash through Philox itself with a counter tag distinct from the data counters.
 *
 * ## Conversions
 * - uniform: `(u >>> 8 + 0.5) · 2⁻²⁴`, in the open interval (0, 1), exact in float32.
 * - normal: Box–Muller on lane pairs (0,1) and (2,3): `√(−2 ln u₀)·cos(2πu₁)`, `√(−2 ln u₀)·sin(2πu₁)`.
 * Uniform bits are identical on every backend; normals are identical on the host path and equal to float32
 * rounding of the transcendental functions on GPU kernels.
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

/** High 32 bits of the 64-bit product of two uint32 values (exact in doubles). */
function mulhi(a: number, b: number): number {
  const aH = a >>> 16;
  const aL = a & 0xffff;
  const bH = b >>> 16;
  const bL = b & 0xffff;
  const mid = aH * bL + aL * bH; // < 2^33
  const x = mid * 65536 + aL * bL; // < 2^50, exact
  return (aH * bH + Math.floor(x / TWO_POW_32)) >>> 0;
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
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[offset] = c0;
  out[offset + 1] = c1;
  out[offset + 2] = c2;
  out[offset + 3] = c3;
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

/** Derives `n` independent keys from `key` (default 2). */
export function splitKey(key: RngKey, n = 2): RngKey[] {
  assertKey(key);
  if (!Number.isInteger(n) || n < 1) {
    throw new EbmError('INVALID_PARAM', 'splitKey n must be an integer >= 1.', {
      argument: 'n',
      value: n,
      fix: 'ask for at least one key.',
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

function rowsCols(shape: readonly number[]): [number, number] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new EbmError('INVALID_PARAM', 'shape must hold non-negative integers.', {
        argument: 'shape',
        value: shape,
        fix: 'pass a shape such as [nChains, dim].',
      });
    }
  }
  if (shape.length === 0) return [1, 1];
  const rows = shape[0]!;
  let cols = 1;
  for (let i = 1; i < shape.length; i++) cols *= shape[i]!;
  return [rows, cols];
}

/**
 * Raw Philox output for a tensor of `shape`, in row-major order: the uint32 words described in the module docs.
 */
export function randomBits(key: RngKey, shape: readonly number[]): Uint32Array {
  assertKey(key);
  const [rows, cols] = rowsCols(shape);
  const out = new Uint32Array(rows * cols);
  const blocks = Math.ceil(cols / 4);
  const buf = new Uint32Array(4);
  const ctr: [number, number, number, number] = [0, 0, 0, 0];
  for (let r = 0; r < rows; r++) {
    ctr[1] = r;
    const base = r * cols;
    for (let b = 0; b < blocks; b++) {
      ctr[0] = b;
      philox4x32(ctr, key, buf);
      const c = b * 4;
      const n = Math.min(4, cols - c);
      for (let l = 0; l < n; l++) out[base + c + l] = buf[l]!;
    }
  }
  return out;
}

/** Maps a uint32 to a float32-exact uniform in the open interval (0, 1). */
export function bitsToUniform(u: number): number {
  return ((u >>> 8) + 0.5) * 5.9604644775390625e-8; // 2^-24
}

/** Uniform numbers in (lo, hi) for `shape`, on the host. */
export function uniformArray(key: RngKey, shape: readonly number[], lo = 0, hi = 1): Float32Array {
  const bits = randomBits(key, shape);
  const out = new Float32Array(bits.length);
  const span = hi - lo;
  for (let i = 0; i < bits.length; i++) out[i] = lo + span * bitsToUniform(bits[i]!);
  return out;
}

const TWO_PI = 2 * Math.PI;

/** Standard-normal numbers (times `stddev`, plus `mean`) for `shape`, on the host. */
export function normalArray(key: RngKey, shape: readonly number[], mean = 0, stddev = 1): Float32Array {
  assertKey(key);
  const [rows, cols] = rowsCols(shape);
  const out = new Float32Array(rows * cols);
  const blocks = Math.ceil(cols / 4);
  const buf = new Uint32Array(4);
  const ctr: [number, number, number, number] = [0, 0, 0, 0];
  for (let r = 0; r < rows; r++) {
    ctr[1] = r;
    const base = r * cols;
    for (let b = 0; b < blocks; b++) {
      ctr[0] = b;
      philox4x32(ctr, key, buf);
      const c = b * 4;
      const ra = Math.sqrt(-2 * Math.log(bitsToUniform(buf[0]!)));
      const ta = TWO_PI * bitsToUniform(buf[1]!);
      const rb = Math.sqrt(-2 * Math.log(bitsToUniform(buf[2]!)));
      const tb = TWO_PI * bitsToUniform(buf[3]!);
      const n = Math.min(4, cols - c);
      const i = base + c;
      out[i] = mean + stddev * ra * Math.cos(ta);
      if (n > 1) out[i + 1] = mean + stddev * ra * Math.sin(ta);
      if (n > 2) out[i + 2] = mean + stddev * rb * Math.cos(tb);
      if (n > 3) out[i + 3] = mean + stddev * rb * Math.sin(tb);
    }
  }
  return out;
}

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
