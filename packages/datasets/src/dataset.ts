import {
  assertFiniteArray,
  assertInteger,
  assertKnownOptions,
  EbmError,
  foldIn,
  MAX_ELEMENTS,
  type RngKey,
  toKey,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** A seed (integer or bigint) or a core {@link RngKey}. */
export type Seed = number | bigint | RngKey;

/** Options of {@link PointDataset.batches}. */
export interface BatchOptions {
  /** Seed of the shuffling (default 0); epoch e uses `foldIn(key, e)`. */
  readonly seed?: Seed;
  /** Shuffle the rows each epoch (default true). */
  readonly shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  readonly dropLast?: boolean;
  /** Number of passes over the data (default 1). */
  readonly epochs?: number;
}

/**
 * Random permutation of 0..n−1 (Fisher–Yates) driven by `uniformArray(key, [n])`: deterministic for a key,
 * identical on every backend.
 */
export function permutation(n: number, key: RngKey): Int32Array {
  assertInteger('n', n, 0, MAX_ELEMENTS);
  toKey(key, 'key');
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (n < 2) return perm;
  const u = uniformArray(key, [n]);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i]! * (i + 1)));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * A generated set of points: `data` is row-major `[nSamples, dim]` float32 on the host; `labels` (when the
 * generator has classes: mixture component, moon, blade, spiral, ring) has one int per row.
 */
export class PointDataset {
  /** Generator name, e.g. `'twoMoons'`. */
  readonly name: string;
  /** Row-major points `[nSamples, dim]`. */
  readonly data: Float32Array;
  /** Class of each row, when the generator defines classes. */
  readonly labels: Int32Array | undefined;
  /** Number of columns (2 for every generator here). */
  readonly dim: number;

  constructor(name: string, data: Float32Array, dim: number, labels?: Int32Array) {
    assertInteger('dim', dim, 1);
    if (!(data instanceof Float32Array)) {
      throw new EbmError('INVALID_PARAM', 'data must be a Float32Array.', {
        argument: 'data',
        value: data === null ? null : typeof data,
        fix: 'pass row-major points as Float32Array.from(values).',
      });
    }
    assertFiniteArray('data', data);
    if (data.length % dim !== 0) {
      throw new EbmError('SHAPE_MISMATCH', 'data length must be a multiple of dim.', {
        argument: 'data',
        value: data.length,
        fix: `pass nSamples·${dim} values.`,
      });
    }
    if (labels !== undefined && labels.length !== data.length / dim) {
      throw new EbmError('SHAPE_MISMATCH', 'labels must hold one entry per row.', {
        argument: 'labels',
        value: labels.length,
        fix: `pass ${data.length / dim} labels.`,
      });
    }
    this.name = name;
    this.data = data;
    this.dim = dim;
    this.labels = labels;
  }

  /** Number of rows. */
  get nSamples(): number {
    return this.data.length / this.dim;
  }

  /** The points as a new `[nSamples, dim]` float32 tensor (the caller disposes it). */
  toTensor(): tf.Tensor2D {
    return tf.tensor2d(this.data, [this.nSamples, this.dim], 'float32');
  }

  /** Row `i` as a plain array. */
  row(i: number): number[] {
    assertInteger('i', i, 0, this.nSamples - 1);
    return Array.from(this.data.subarray(i * this.dim, (i + 1) * this.dim));
  }

  /**
   * Mini-batches as host arrays: each yields `{ data, labels?, indices }` with `data` row-major
   * `[rows, dim]`. Each epoch visits every row once, in the order `permutation(nSamples, foldIn(key, epoch))`.
   */
  *arrayBatches(
    batchSize: number,
    options: BatchOptions = {},
  ): Generator<{ data: Float32Array; labels: Int32Array | undefined; indices: Int32Array }> {
    const n = this.nSamples;
    assertKnownOptions('batches', options, ['seed', 'shuffle', 'dropLast', 'epochs']);
    assertInteger('batchSize', batchSize, 1);
    const epochs = assertInteger('epochs', options.epochs ?? 1, 1);
    const key = toKey(options.seed ?? 0);
    const shuffle = options.shuffle ?? true;
    const d = this.dim;
    for (let e = 0; e < epochs; e++) {
      let order: Int32Array;
      if (shuffle) order = permutation(n, foldIn(key, e));
      else {
        order = new Int32Array(n);
        for (let i = 0; i < n; i++) order[i] = i;
      }
      for (let start = 0; start < n; start += batchSize) {
        const rows = Math.min(batchSize, n - start);
        if (rows < batchSize && options.dropLast) break;
        const indices = order.subarray(start, start + rows);
        const out = new Float32Array(rows * d);
        for (let r = 0; r < rows; r++)
          out.set(this.data.subarray(indices[r]! * d, (indices[r]! + 1) * d), r * d);
        let labels: Int32Array | undefined;
        if (this.labels !== undefined) labels = Int32Array.from(indices, (i) => this.labels![i]!);
        yield { data: out, labels, indices: Int32Array.from(indices) };
      }
    }
  }

  /**
   * Shuffled mini-batches as `[rows, dim]` tensors, created lazily one at a time (dispose each after use).
   * Same seed → same batches. See {@link PointDataset.arrayBatches} for the order.
   *
   * @example
   * ```ts
   * for (const batch of twoMoons({ seed: 1 }).batches(256, { seed: 2, epochs: 10 })) {
   *   optimizer.minimize(() => loss(batch));
   *   batch.dispose();
   * }
   * ```
   */
  *batches(batchSize: number, options: BatchOptions = {}): Generator<tf.Tensor2D> {
    for (const b of this.arrayBatches(batchSize, options)) {
      yield tf.tensor2d(b.data, [b.data.length / this.dim, this.dim], 'float32');
    }
  }
}
