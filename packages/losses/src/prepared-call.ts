import {
  type Coupling,
  type CouplingResult,
  disposeCouplingResult,
  EbmError,
  IndependentCoupling,
  isEbmError,
  type Loss,
  type RngKey,
  randomNormal,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { withoutTape } from './internal.js';

/**
 * # The asynchronous pre-pass of a loss call
 *
 * A loss's `compute` is synchronous: it runs inside the gradient tape (`tf.variableGrads`, `optimizer.minimize`).
 * Some of a call's work is not differentiable and needs a host read: a coupling that solves an assignment on the
 * host (exact OT, greedy; Sinkhorn's float64 host plan) reads the cost matrix C[i, j] = ‖x₀ᵢ − x₁ⱼ‖². On cpu /
 * wasm that read is synchronous (`dataSync`); on WebGPU it cannot be. The pre-pass does that work **before** the
 * tape with `await t.data()` (`coupling.coupleAsync`) and hands the result to `compute` through
 * `context.prepared`, so the call is the same on every backend:
 *
 * ```ts
 * const prepared = await loss.prepare(batch, { key });          // async reads, no tape
 * try {
 *   const { value, grads } = tf.variableGrads(() => loss.compute(batch, { key, prepared }).loss);
 * } finally {
 *   prepared.dispose();
 * }
 * ```
 *
 * `fit` does this at every step; `loss.computeAsync(batch, context)` does it for one call. The pairing is the
 * sync path's: the same keys (the call's key split as in `computeParts`) draw the same noise x₀ and the coupling's
 * `coupleAsync` solves the same assignment as its `couple`, so on cpu / wasm the loss, its gradient and the
 * recorded runs are bit-identical with and without the pre-pass.
 * @module
 */

/** Draws the source x₀ `[n, d]` of a coupling from a key (default: `randomNormal(key, [n, d])`). */
export type SourceDraw = (key: RngKey, n: number, d: number) => tf.Tensor2D;

const normalSource: SourceDraw = (key, n, d) => randomNormal(key, [n, d]) as tf.Tensor2D;

/** One coupling solved ahead of the tape: the pair for (noise key, coupling key) on a batch of a given shape. */
interface PreparedPair {
  readonly noiseKey: RngKey;
  readonly coupleKey: RngKey;
  readonly shape: readonly number[];
  /** The batch x₁ (never disposed here). */
  readonly data: tf.Tensor2D;
  readonly pair: CouplingResult;
}

function sameKey(a: RngKey, b: RngKey): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/**
 * The work of one loss call done ahead of the gradient tape with asynchronous reads ({@link BaseLoss.prepare}):
 * the call's key and, per coupling the loss uses, the paired batches. The caller owns it: pass it to `compute`
 * as `context.prepared` (with the same batch; `context.key` defaults to {@link PreparedCall.key}) inside the
 * tape, then {@link PreparedCall.dispose} it. Its tensors are constants for the tape.
 */
export class PreparedCall {
  /** The key of the call (`compute` uses it when the context gives no key). */
  readonly key: RngKey;
  private readonly pairs: PreparedPair[] = [];
  private disposed = false;

  constructor(key: RngKey) {
    this.key = key;
  }

  /** Number of couplings solved ahead (0 for a loss without a host-solved coupling). */
  get size(): number {
    return this.pairs.length;
  }

  /**
   * Solves `coupling` ahead of the tape for x₀ = `source(noiseKey, B, D)` (default `randomNormal(noiseKey,
   * data.shape)`) and x₁ = `data`, with the
   * coupling's asynchronous pairing (`coupleAsync(x0, data, coupleKey)`: the cost read with `await data()`, the
   * assignment solved on the host, the rows gathered on the device). Couplings that need no host work
   * (`IndependentCoupling`, or an object without `coupleAsync`) are left to the sync path.
   */
  async addPair(
    coupling: Coupling,
    data: tf.Tensor2D,
    noiseKey: RngKey,
    coupleKey: RngKey,
    source: SourceDraw = normalSource,
  ): Promise<void> {
    if (this.disposed) {
      throw new EbmError('STATE_ERROR', 'This prepared call was disposed.', {
        argument: 'prepared',
        fix: 'prepare a new call with await loss.prepare(batch, context).',
      });
    }
    if (coupling instanceof IndependentCoupling || typeof coupling.coupleAsync !== 'function') return;
    const z = withoutTape(() => source(noiseKey, data.shape[0], data.shape[1]));
    let pair: CouplingResult | undefined;
    try {
      pair = await coupling.coupleAsync(z, data, coupleKey);
    } finally {
      // A coupling may hand x₀ back as its own output (the sync path's tidy releases it either way).
      const outs: (tf.Tensor | undefined)[] = pair === undefined ? [] : [pair.x0, pair.x1, pair.weights];
      if (!z.isDisposed && !outs.includes(z)) z.dispose();
    }
    const done = pair as CouplingResult;
    if (this.disposed) {
      // disposed while the coupling was solving: release the late result
      disposeCouplingResult(done, [data]);
      return;
    }
    this.pairs.push({ noiseKey, coupleKey, shape: [...data.shape], data, pair: done });
  }

  /**
   * The pair solved for (noiseKey, coupleKey) on a batch of `data`'s shape, or undefined. The tensors stay owned
   * by this object.
   */
  pairFor(noiseKey: RngKey, coupleKey: RngKey, data: tf.Tensor2D): CouplingResult | undefined {
    if (this.disposed) return undefined;
    const hit = this.pairs.find(
      (p) =>
        sameKey(p.noiseKey, noiseKey) &&
        sameKey(p.coupleKey, coupleKey) &&
        p.shape.length === data.shape.length &&
        p.shape.every((s, i) => s === data.shape[i]),
    );
    return hit?.pair;
  }

  /** Releases the prepared tensors (never the batch itself). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.pairs) disposeCouplingResult(p.pair, [p.data]);
    this.pairs.length = 0;
  }
}

/**
 * The coupled pair of a loss call, for `computeParts`: the pair prepared ahead by `context.prepared` when there
 * is one for these keys, else the sync path — x₀ = `source(noiseKey, B, D)` (default randomNormal) paired by
 * `coupling.couple(x0, data, coupleKey)` without the tape (inside `computeParts`' tidy). The sync path of a
 * host-solved coupling on a backend without synchronous reads (webgpu) fails with a `BACKEND_UNAVAILABLE`
 * {@link EbmError} that points at `fit` / `computeAsync`.
 *
 * Ownership: a prepared pair stays owned by the {@link PreparedCall}; a sync pair belongs to the enclosing tidy.
 */
export function coupledPair(
  coupling: Coupling,
  data: tf.Tensor2D,
  noiseKey: RngKey,
  coupleKey: RngKey,
  prepared: PreparedCall | undefined,
  owner: string,
  source: SourceDraw = normalSource,
): CouplingResult {
  const hit = prepared?.pairFor(noiseKey, coupleKey, data);
  if (hit !== undefined) return hit;
  try {
    return withoutTape(() =>
      coupling.couple(source(noiseKey, data.shape[0], data.shape[1]), data, coupleKey),
    );
  } catch (e) {
    if (!isEbmError(e, 'BACKEND_UNAVAILABLE')) throw e;
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `${owner}.compute() with the "${coupling.name}" coupling reads synchronously, which "${tf.getBackend()}" cannot.`,
      {
        argument: 'coupling',
        value: coupling.name,
        fix: 'train with fit(), or use await loss.computeAsync(data), or compute(data, { prepared: await loss.prepare(data) }).',
        cause: e,
      },
    );
  }
}

/** A loss with the asynchronous pre-pass of {@link BaseLoss.prepare}. */
export interface PreparableLoss extends Loss {
  prepare(data: tf.Tensor2D, context?: { readonly key?: RngKey }): Promise<PreparedCall>;
}

/** Whether `loss` has the pre-pass (every `@ebm/losses` loss does; a plain core `Loss` may not). */
export function isPreparable(loss: Loss): loss is PreparableLoss {
  return typeof (loss as Partial<PreparableLoss>).prepare === 'function';
}
