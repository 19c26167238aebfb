import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';
import { declareKernel, randomNormal, randomUniform } from './kernels.js';
import { type RngKey, splitKey, uniformArray } from './rng.js';

/**
 * # Replay-buffer kernels
 *
 * The two data-only device steps of a PCD replay buffer (Tieleman 2008; Du & Mordatch 2019), declared in core's
 * kernel registry with composite tfjs fallbacks (every backend) so a backend can run each in one program:
 *
 * - `replay.draw` ({@link REPLAY_DRAW_KERNEL}): B start points from a `[capacity, D]` buffer — stratified rows,
 *   each replaced by fresh initial noise with probability p — all drawn from one key (see
 *   {@link replayDrawPlan}); a backend recomputes the plan from the key on the device, so a draw uploads nothing.
 * - `replay.write` ({@link REPLAY_WRITE_KERNEL}): the FIFO ring write of B new rows into a new buffer.
 *
 * `ReplayBuffer` (`@ebm/losses`) calls both through {@link runKernel}; `@ebm/cuda` registers WGSL programs for
 * `webgpu`.
 * @module
 */

/** Registry name of the replay-buffer draw kernel (inputs {@link ReplayDrawInputs}, output the start points). */
export const REPLAY_DRAW_KERNEL = 'replay.draw';
/** Registry name of the replay-buffer FIFO write kernel (inputs {@link ReplayWriteInputs}, output the new buffer). */
export const REPLAY_WRITE_KERNEL = 'replay.write';

/**
 * Initial noise of a replay buffer: `'uniform'`: mean + scale·(2u − 1), u ~ U(0, 1) (`randomUniform`);
 * `'normal'`: mean + scale·z, z ~ N(0, 1) (`randomNormal`). Element (r, d) of an `[n, D]` draw with key k is
 * element r·D + d of the key's Philox stream.
 */
export interface ReplayNoise {
  readonly kind: 'uniform' | 'normal';
  readonly scale: number;
  readonly mean: number;
}

/**
 * Inputs of the `replay.draw` kernel. With `[kIndex, kMask, kNoise] = splitKey(key, 3)`, u = `uniformArray(kIndex,
 * [n])`, m = `uniformArray(kMask, [n])`, s = ⌊capacity / n⌋:
 *
 * row i = noise(kNoise)[i] if mᵢ < p, else buffer[jᵢ] with jᵢ = i·s + min(s − 1, ⌊uᵢ·s⌋) when capacity ≥ n
 * (stratified) and jᵢ = min(capacity − 1, ⌊uᵢ·capacity⌋) otherwise (uniform with replacement),
 *
 * noise(kNoise) the `[n, D]` initial noise of {@link ReplayNoise} (the same tensor whether or not rows use it).
 */
export interface ReplayDrawInputs {
  /** The stored states `[capacity, D]` (float32). */
  readonly buffer: tf.Tensor2D;
  /** Number of start points B ≥ 1. */
  readonly n: number;
  /** Key of the draw (split into index, mask and noise keys, see above). */
  readonly key: RngKey;
  /** Re-initialisation probability p ∈ [0, 1]. */
  readonly reinitProbability: number;
  /** The initial noise. */
  readonly noise: ReplayNoise;
}

/**
 * Inputs of the `replay.write` kernel, the FIFO ring write of B rows x into a `[C, D]` buffer at pointer q:
 * for B < C, row j of the new buffer is x[(j − q) mod C] when (j − q) mod C < B, else the old row j; for B ≥ C it
 * is x[B − C + j] (the last C rows, in ring order from row 0). The next pointer is {@link replayNextPointer}.
 */
export interface ReplayWriteInputs {
  /** The stored states `[C, D]` (float32; not changed: the output is a new tensor). */
  readonly buffer: tf.Tensor2D;
  /** The new rows `[B, D]` (float32). */
  readonly rows: tf.Tensor2D;
  /** Ring pointer q ∈ [0, C): the oldest row. */
  readonly pointer: number;
}

/** Host side of a draw: which rows come from the buffer and which from noise (see {@link ReplayDrawInputs}). */
export interface ReplayDrawPlan {
  /** Buffer row jᵢ of every start point (also for re-initialised rows, whose value is not used). */
  readonly indices: Int32Array;
  /** 1 where row i is re-initialised from noise. */
  readonly reinit: Uint8Array;
  /** Number of re-initialised rows. */
  readonly reinitialised: number;
  /** The noise key kNoise. */
  readonly noiseKey: RngKey;
}

/** The host plan of a draw (rows and re-initialisation flags; see {@link ReplayDrawInputs}). */
export function replayDrawPlan(key: RngKey, n: number, capacity: number, p: number): ReplayDrawPlan {
  const [kIdx, kMask, kNoise] = splitKey(key, 3) as [RngKey, RngKey, RngKey];
  const u = uniformArray(kIdx, [n]);
  const indices = new Int32Array(n);
  if (capacity >= n) {
    const stride = Math.floor(capacity / n);
    for (let i = 0; i < n; i++) indices[i] = i * stride + Math.min(stride - 1, Math.floor(u[i]! * stride));
  } else {
    for (let i = 0; i < n; i++) indices[i] = Math.min(capacity - 1, Math.floor(u[i]! * capacity));
  }
  const m = uniformArray(kMask, [n]);
  const reinit = new Uint8Array(n);
  let reinitialised = 0;
  for (let i = 0; i < n; i++) {
    if (m[i]! < p) {
      reinit[i] = 1;
      reinitialised++;
    }
  }
  return { indices, reinit, reinitialised, noiseKey: kNoise };
}

/**
 * The integer form of the re-initialisation test for devices: with w the Philox word of mᵢ, `bitsToUniform(w) =
 * (⌊w/2⁹⌋ + ½)·2⁻²³ < p` ⇔ ⌊w/2⁹⌋ < T, T = clamp(⌈p·2²³ − ½⌉, 0, 2²³) (exact: both sides are exact in float64).
 */
export function replayReinitThreshold(p: number): number {
  return Math.max(0, Math.min(2 ** 23, Math.ceil(p * 2 ** 23 - 0.5)));
}

/** The ring pointer after writing `b` rows at `pointer` into a buffer of `capacity` rows. */
export function replayNextPointer(pointer: number, b: number, capacity: number): number {
  return b >= capacity ? 0 : (pointer + b) % capacity;
}

/** Initial noise `[n, dim]` of {@link ReplayNoise} (the composite; `randomUniform` / `randomNormal` kernels). */
export function replayNoise(noise: ReplayNoise, key: RngKey, n: number, dim: number): tf.Tensor2D {
  return tf.tidy(() => {
    const z =
      noise.kind === 'normal'
        ? randomNormal(key, [n, dim])
        : tf.sub(tf.mul(randomUniform(key, [n, dim]), 2), 1);
    return tf.add(tf.mul(z, noise.scale), noise.mean) as tf.Tensor2D;
  });
}

function checkBuffer(name: string, t: unknown): tf.Tensor2D {
  if (!(t instanceof tf.Tensor) || t.rank !== 2 || t.isDisposed) {
    throw new EbmError('INVALID_PARAM', `${name} must be a live rank-2 tensor.`, {
      argument: name,
      value: t instanceof tf.Tensor ? t.shape : typeof t,
      fix: 'pass a [rows, dim] float32 tensor.',
    });
  }
  return t as tf.Tensor2D;
}

/** Validates `replay.draw` inputs (shared by the composite and backend implementations). */
export function checkReplayDrawInputs(inputs: ReplayDrawInputs): void {
  checkBuffer('buffer', inputs.buffer);
  if (!Number.isInteger(inputs.n) || inputs.n < 1) {
    throw new EbmError('INVALID_PARAM', 'n must be a positive integer.', {
      argument: 'n',
      value: inputs.n,
      fix: 'pass the batch size B ≥ 1.',
    });
  }
  const p = inputs.reinitProbability;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new EbmError('INVALID_PARAM', 'reinitProbability must be in [0, 1].', {
      argument: 'reinitProbability',
      value: p,
      fix: 'pass a probability such as 0.05.',
    });
  }
}

/** Validates `replay.write` inputs: `[C, D]` buffer, `[B, D]` rows, integer pointer in [0, C). */
export function checkReplayWriteInputs(inputs: ReplayWriteInputs): void {
  const buf = checkBuffer('buffer', inputs.buffer);
  const rows = checkBuffer('rows', inputs.rows);
  if (rows.shape[1] !== buf.shape[1]) {
    throw new EbmError('SHAPE_MISMATCH', 'rows must have the dimension of the buffer.', {
      argument: 'rows',
      value: rows.shape,
      fix: `pass rows of shape [B, ${buf.shape[1]}].`,
    });
  }
  const q = inputs.pointer;
  if (!Number.isInteger(q) || q < 0 || q >= buf.shape[0]) {
    throw new EbmError('INVALID_PARAM', 'pointer must be an integer row of the buffer.', {
      argument: 'pointer',
      value: q,
      fix: `pass an integer in [0, ${buf.shape[0]}).`,
    });
  }
}

/**
 * Composite `replay.draw`: the host plan ({@link replayDrawPlan}), an index upload and `tf.gather`, and where rows
 * are re-initialised the noise blended in with a `[n, 1]` mask (fresh·m + picked·(1 − m)).
 */
export function replayDrawComposite(inputs: ReplayDrawInputs): tf.Tensor2D {
  checkReplayDrawInputs(inputs);
  const { buffer, n, key, reinitProbability, noise } = inputs;
  const plan = replayDrawPlan(key, n, buffer.shape[0], reinitProbability);
  return tf.tidy(() => {
    const picked = tf.gather(buffer, tf.tensor1d(plan.indices, 'int32'));
    if (plan.reinitialised === 0) return picked as tf.Tensor2D;
    const fresh = replayNoise(noise, plan.noiseKey, n, buffer.shape[1]);
    const maskT = tf.tensor2d(Float32Array.from(plan.reinit), [n, 1]);
    return tf.add(tf.mul(fresh, maskT), tf.mul(picked, tf.sub(1, maskT))) as tf.Tensor2D;
  });
}

/** Composite `replay.write`: the ring write as slices of the old buffer and the rows, concatenated. */
export function replayWriteComposite(inputs: ReplayWriteInputs): tf.Tensor2D {
  checkReplayWriteInputs(inputs);
  const { buffer: data, rows: t, pointer: ptr } = inputs;
  const [cap, dim] = data.shape;
  const b = t.shape[0];
  return tf.tidy(() => {
    if (b >= cap) {
      // The last `cap` rows, arranged so the ring order is preserved (row j holds the (b-cap+j)-th).
      return tf.slice(t, [b - cap, 0], [cap, dim]) as tf.Tensor2D;
    }
    const n1 = Math.min(b, cap - ptr);
    const n2 = b - n1;
    const parts: tf.Tensor[] = [];
    const rows = (src: tf.Tensor2D, from: number, count: number) => {
      if (count > 0) parts.push(tf.slice(src, [from, 0], [count, dim]));
    };
    if (n2 === 0) {
      rows(data, 0, ptr);
      rows(t, 0, b);
      rows(data, ptr + b, cap - ptr - b);
    } else {
      rows(t, n1, n2);
      rows(data, n2, ptr - n2);
      rows(t, 0, n1);
    }
    return (parts.length === 1 ? tf.clone(parts[0]!) : tf.concat(parts, 0)) as tf.Tensor2D;
  });
}

/** Declares the two replay kernels (idempotent: a re-declaration keeps registered implementations). */
function declareReplayKernels(): void {
  declareKernel(
    REPLAY_DRAW_KERNEL,
    {
      description:
        'replay-buffer draw: stratified rows of a [capacity, D] buffer, each replaced by initial noise with probability p (plan from one key)',
      fallback: replayDrawComposite,
    },
    { override: true },
  );
  declareKernel(
    REPLAY_WRITE_KERNEL,
    {
      description: 'replay-buffer FIFO ring write of [B, D] rows into a new [capacity, D] buffer',
      fallback: replayWriteComposite,
    },
    { override: true },
  );
}
declareReplayKernels();
