import {
  assertAllocation,
  assertBatch,
  assertFiniteNumber,
  assertInRange,
  assertInteger,
  assertKnownOptions,
  assertOneOf,
  assertPositive,
  EbmError,
  foldIn,
  REPLAY_DRAW_KERNEL,
  REPLAY_WRITE_KERNEL,
  type ReplayNoise,
  type RngKey,
  replayDrawPlan,
  replayNextPointer,
  replayNoise,
  runKernel,
  type Sampler,
  splitKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { disposeAllButSamples } from './sampling.js';

/** Options of a {@link ReplayBuffer}. */
export interface ReplayBufferOptions {
  /** Number of stored states (default 10 000). */
  readonly capacity?: number;
  /**
   * Probability p that a drawn start point is replaced by a fresh draw from the initial noise (default 0.05).
   * Each row is re-initialised independently, so on average p·B rows per batch (Du & Mordatch, 2019).
   */
  readonly reinitProbability?: number;
  /** Initial noise: `'uniform'` on [mean − scale, mean + scale] (default) or `'normal'` N(mean, scale²). */
  readonly init?: 'uniform' | 'normal';
  /** Scale of the initial noise (default 1). */
  readonly initScale?: number;
  /** Centre of the initial noise (default 0). */
  readonly initMean?: number;
  /** Sampler steps run over the whole buffer when it is first filled (default 0), in chunks of ≤ 1024 rows. */
  readonly burnInSteps?: number;
}

/** Plain-data snapshot of a {@link ReplayBuffer} (JSON-serialisable; part of a training checkpoint). */
export interface ReplayBufferState {
  readonly capacity: number;
  readonly dim: number | null;
  readonly pointer: number;
  readonly writes: number;
  /** Row-major `[capacity, dim]` contents, or `null` before the first draw. */
  readonly data: number[] | null;
}

/** What {@link ReplayBuffer.draw} returns. */
export interface ReplayDraw {
  /** Start points `[B, D]` (the caller owns them). */
  readonly start: tf.Tensor2D;
  /** Buffer rows the non-re-initialised start points came from. */
  readonly indices: Int32Array;
  /** Number of rows re-initialised from noise. */
  readonly reinitialised: number;
}

/**
 * Replay buffer of persistent chains for PCD (Tieleman 2008; Du & Mordatch 2019).
 * - **Initial fill**: `capacity` rows of noise (`init`, `initScale`, `initMean`), then `burnInSteps` sampler
 *   steps over the whole buffer.
 * - **Draws**: stratified when `capacity ≥ B` (row i comes from stratum `[i·s, (i+1)·s)`, `s = ⌊capacity/B⌋`),
 *   uniform with replacement otherwise; then each start point is replaced by fresh noise with probability p.
 * - **Update**: FIFO ring: the new negatives overwrite the oldest rows.
 * Keys come from the caller, so a draw is a pure function of (buffer, key).
 * **Device work**: a draw is one call of core's `replay.draw` kernel and an update one of `replay.write`: one WGSL
 * program each on WebGPU with `@ebm/cuda` (no upload), the composite tfjs ops elsewhere; the returned `indices`
 * and `reinitialised` come from the same plan on the host (`replayDrawPlan`), without a device read.
 */
export class ReplayBuffer {
  readonly capacity: number;
  readonly reinitProbability: number;
  readonly init: 'uniform' | 'normal';
  readonly initScale: number;
  readonly initMean: number;
  readonly burnInSteps: number;
  private data: tf.Tensor2D | undefined;
  private dimValue: number | undefined;
  private pointer = 0;
  private writes = 0;

  constructor(options: ReplayBufferOptions = {}) {
    assertKnownOptions('ReplayBuffer', options, [
      'capacity',
      'reinitProbability',
      'init',
      'initScale',
      'initMean',
      'burnInSteps',
    ]);
    this.capacity = assertInteger('capacity', options.capacity ?? 10_000, 1);
    assertAllocation(`ReplayBuffer capacity ${this.capacity}`, this.capacity, 'use a smaller capacity.');
    this.reinitProbability = assertInRange('reinitProbability', options.reinitProbability ?? 0.05, 0, 1);
    this.init = assertOneOf('init', options.init ?? 'uniform', ['uniform', 'normal'] as const);
    this.initScale = assertPositive('initScale', options.initScale ?? 1);
    this.initMean = assertFiniteNumber('initMean', options.initMean ?? 0);
    this.burnInSteps = assertInteger('burnInSteps', options.burnInSteps ?? 0, 0);
  }

  /** Whether the buffer has been filled. */
  get initialized(): boolean {
    return this.data !== undefined;
  }

  /** Feature dimension, once filled. */
  get dim(): number | undefined {
    return this.dimValue;
  }

  /** Total rows written by {@link ReplayBuffer.push} since the initial fill. */
  get totalWrites(): number {
    return this.writes;
  }

  /** A copy of the stored states `[capacity, D]` (the caller owns it). */
  contents(): tf.Tensor2D {
    if (this.data === undefined) {
      throw new EbmError('STATE_ERROR', 'The replay buffer is empty: it is filled on the first draw.', {
        argument: 'buffer',
        fix: 'call loss.compute(batch) once, or fill it with buffer.fill(dim, key).',
      });
    }
    return tf.clone(this.data);
  }

  /** Fresh initial noise `[n, dim]`. */
  noise(key: RngKey, n: number, dim: number): tf.Tensor2D {
    return replayNoise(this.noiseSpec(), key, n, dim);
  }

  private noiseSpec(): ReplayNoise {
    return { kind: this.init, scale: this.initScale, mean: this.initMean };
  }

  /** Fills the buffer with noise and runs `burnInSteps` steps of `sampler` over it (no-op when filled). */
  fill(dim: number, key: RngKey, sampler?: Sampler): void {
    if (this.data !== undefined) return;
    assertInteger('dim', dim, 1);
    assertAllocation(
      `ReplayBuffer (capacity ${this.capacity} × dim ${dim})`,
      this.capacity * dim,
      'use a smaller capacity.',
    );
    const [kNoise, kBurn] = splitKey(key, 2) as [RngKey, RngKey];
    let buf = this.noise(kNoise, this.capacity, dim);
    if (this.burnInSteps > 0) {
      if (sampler === undefined) {
        buf.dispose();
        throw new EbmError('INVALID_PARAM', 'burnInSteps > 0 needs a sampler.', {
          argument: 'sampler',
          fix: 'pass the sampler to fill(), or set burnInSteps: 0.',
        });
      }
      const chunks: tf.Tensor2D[] = [];
      try {
        for (let start = 0, c = 0; start < this.capacity; start += 1024, c++) {
          const n = Math.min(1024, this.capacity - start);
          const x0 = tf.slice(buf, [start, 0], [n, dim]) as tf.Tensor2D;
          try {
            const r = sampler.sampleSync({ x0, nSteps: this.burnInSteps, seed: foldIn(kBurn, c) });
            chunks.push(disposeAllButSamples(r));
          } finally {
            x0.dispose();
          }
        }
        const joined = chunks.length === 1 ? chunks[0]! : (tf.concat(chunks, 0) as tf.Tensor2D);
        if (chunks.length > 1) tf.dispose(chunks);
        buf.dispose();
        buf = joined;
      } catch (e) {
        tf.dispose(chunks);
        buf.dispose();
        throw e;
      }
    }
    this.data = tf.keep(buf);
    this.dimValue = dim;
    this.pointer = 0;
    this.writes = 0;
  }

  /** Draws `n` start points (see the class docs). The buffer must be filled. */
  draw(n: number, key: RngKey): ReplayDraw {
    assertInteger('n', n, 1);
    const data = this.data;
    const dim = this.dimValue;
    if (data === undefined || dim === undefined) {
      throw new EbmError('STATE_ERROR', 'The replay buffer is empty.', {
        argument: 'buffer',
        fix: 'call fill(dim, key, sampler) first.',
      });
    }
    // The plan on the host (cheap, no device work) for the returned indices and count; the device work is one
    // `replay.draw` kernel call (one program on webgpu with @ebm/cuda, the composite tfjs ops elsewhere).
    const plan = replayDrawPlan(key, n, this.capacity, this.reinitProbability);
    const start = runKernel(REPLAY_DRAW_KERNEL, {
      buffer: data,
      n,
      key,
      reinitProbability: this.reinitProbability,
      noise: this.noiseSpec(),
    });
    return { start, indices: plan.indices, reinitialised: plan.reinitialised };
  }

  /** FIFO update: writes `x` `[B, D]` over the oldest rows (the last `capacity` rows when B ≥ capacity). */
  push(x: tf.Tensor2D): void {
    const data = this.data;
    if (data === undefined) {
      throw new EbmError('STATE_ERROR', 'push() before the buffer was filled.', {
        argument: 'buffer',
        fix: 'call fill(dim, key) first.',
      });
    }
    const t = assertBatch('x', x, this.dimValue);
    const b = t.shape[0];
    const next = runKernel(REPLAY_WRITE_KERNEL, { buffer: data, rows: t, pointer: this.pointer });
    data.dispose();
    this.data = tf.keep(next);
    this.pointer = replayNextPointer(this.pointer, b, this.capacity);
    this.writes += b;
  }

  /** Plain-data snapshot (reads the buffer back; works on every backend). */
  async save(): Promise<ReplayBufferState> {
    return {
      capacity: this.capacity,
      dim: this.dimValue ?? null,
      pointer: this.pointer,
      writes: this.writes,
      data: this.data === undefined ? null : Array.from(await this.data.data()),
    };
  }

  /** Restores a snapshot from {@link ReplayBuffer.save} (replacing the current contents). */
  /**
   * Checks a saved state against this buffer without changing anything (capacity, dimension, pointer, counts,
   * finite data of the right length): what {@link ReplayBuffer.load} checks before it replaces the contents.
   */
  validateState(state: unknown): asserts state is ReplayBufferState {
    const s = state as ReplayBufferState;
    if (state === null || typeof state !== 'object' || s.capacity !== this.capacity) {
      throw new EbmError('INVALID_PARAM', 'The replay-buffer state does not match this buffer.', {
        argument: 'state.capacity',
        value: state === null || typeof state !== 'object' ? state : s.capacity,
        fix: `restore a state saved from a buffer of capacity ${this.capacity}.`,
      });
    }
    assertInteger('state.pointer', s.pointer, 0, this.capacity - 1);
    assertInteger('state.writes', s.writes, 0);
    if (s.data !== null) {
      const dim = assertInteger('state.dim', s.dim, 1);
      assertAllocation('replay-buffer state', this.capacity * dim, 'restore a smaller buffer.');
      if (!Array.isArray(s.data) || s.data.length !== s.capacity * dim) {
        throw new EbmError('SHAPE_MISMATCH', 'Replay-buffer state data has the wrong length.', {
          argument: 'state.data',
          value: Array.isArray(s.data) ? s.data.length : typeof s.data,
          fix: 'pass the unmodified object returned by save().',
        });
      }
      for (let i = 0; i < s.data.length; i++) {
        if (typeof s.data[i] !== 'number' || !Number.isFinite(s.data[i])) {
          throw new EbmError('NON_FINITE', `Replay-buffer state data[${i}] is not a finite number.`, {
            argument: 'state.data',
            value: s.data[i],
            fix: 'pass the unmodified object returned by save().',
          });
        }
      }
    }
  }

  load(state: ReplayBufferState): void {
    this.validateState(state);
    if (state === null || typeof state !== 'object' || state.capacity !== this.capacity) {
      throw new EbmError('INVALID_PARAM', 'The replay-buffer state does not match this buffer.', {
        argument: 'state.capacity',
        value: state === null || typeof state !== 'object' ? state : state.capacity,
        fix: `restore a state saved from a buffer of capacity ${this.capacity}.`,
      });
    }
    if (state.data !== null && (state.dim === null || state.data.length !== state.capacity * state.dim)) {
      throw new EbmError('SHAPE_MISMATCH', 'Replay-buffer state data has the wrong length.', {
        argument: 'state.data',
        value: state.data.length,
        fix: 'pass the unmodified object returned by save().',
      });
    }
    this.dispose();
    if (state.data !== null && state.dim !== null) {
      this.data = tf.keep(tf.tensor2d(state.data, [state.capacity, state.dim], 'float32'));
      this.dimValue = state.dim;
    }
    this.pointer = assertInteger('state.pointer', state.pointer, 0, this.capacity - 1);
    this.writes = assertInteger('state.writes', state.writes, 0);
  }

  /** Releases the stored states (the buffer refills on the next draw). */
  dispose(): void {
    this.data?.dispose();
    this.data = undefined;
    this.dimValue = undefined;
    this.pointer = 0;
    this.writes = 0;
  }
}
