import type { AdamStepSettings, MLPKernelParams } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs's Adam state as `fit`'s fused training steps keep it (`fused-step.ts`: CD + Adam; `fused-flow-step.ts`:
 * the flow term + Adam), and the commit / revert of one fused update. Internal module.
 *
 * **Adam state.** A fused step keeps Adam's moments in one flat device tensor (m then v of every trained weight)
 * and `accBeta1/2` on the host, imported from the optimizer at the first fused step (one read) and written back to
 * the optimizer's own slots (`getWeights()`: `<variable>/m`, `<variable>/v`, its `accBeta1/2` and iteration
 * count) before every checkpoint, before an autograd step and when the run ends (also on an error), so
 * checkpoints, `resumeFrom` and later `optimizer.applyGradients` / `minimize` calls see exactly the state tfjs's
 * Adam would have. Between those points (inside `onStep`) the optimizer's slots lag behind: do not step the same
 * optimizer from `onStep`.
 *
 * **Slots.** tfjs's Adam indexes its slots by the position of a variable in the gradient map it is given (fit's
 * variable order, less the variables autograd gave no gradient); the caller passes that position per weight.
 * @module
 */

/** Metric key of the gradient norm in the read map (as `fit`'s). */
export const FUSED_GRAD_NORM = '\u0000gradNorm';

interface AdamSlot {
  originalName: string;
  variable: tf.Variable;
}

/** The fields of tfjs's `AdamOptimizer` the fused steps read and write. */
export interface AdamLike {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: (AdamSlot | undefined)[];
  accumulatedSecondMoment: (AdamSlot | undefined)[];
  iterations_: number;
  incrementIterations(): void;
  getClassName(): string;
}

/** Whether `o` is tfjs's `AdamOptimizer` (the fields the fused steps use are there). */
export function isAdam(o: tf.Optimizer): o is tf.Optimizer & AdamLike {
  const a = o as unknown as Partial<AdamLike>;
  return (
    typeof a.getClassName === 'function' &&
    a.getClassName() === 'Adam' &&
    typeof a.learningRate === 'number' &&
    typeof a.beta1 === 'number' &&
    typeof a.beta2 === 'number' &&
    typeof a.epsilon === 'number' &&
    a.accBeta1 instanceof tf.Variable &&
    a.accBeta2 instanceof tf.Variable &&
    Array.isArray(a.accumulatedFirstMoment) &&
    Array.isArray(a.accumulatedSecondMoment) &&
    typeof a.incrementIterations === 'function'
  );
}

/** The MLP hint of an energy (live float32 variables), if it has one. */
export function mlpParams(energy: unknown): MLPKernelParams | undefined {
  const hint = (energy as { kernelHint?: { kind?: unknown; params?: unknown } } | null)?.kernelHint;
  if (hint?.kind !== 'mlp') return undefined;
  const p = hint.params as MLPKernelParams | undefined;
  if (!Array.isArray(p?.weights)) return undefined;
  return p;
}

/**
 * Why the MLP weights `ws` are not what `fit` trains with `optimizer` (a sentence), or `undefined`: every weight
 * a live float32 variable of `variables`, no other variable, and the optimizer's existing slots (at the positions
 * `slotOf` gives) of the weights' sizes.
 */
export function weightsMismatch(
  ws: readonly unknown[],
  variables: readonly tf.Variable[],
  optimizer: AdamLike,
  slotOf: (w: tf.Variable) => number,
): string | undefined {
  if (ws.length !== variables.length) return 'the trained variables are not the MLP weights';
  for (const w of ws) {
    if (!(w instanceof tf.Variable) || !variables.includes(w) || w.dtype !== 'float32' || w.isDisposed)
      return 'the trained variables are not the MLP weights';
  }
  for (const w of ws as tf.Variable[]) {
    const i = slotOf(w);
    if (i < 0) continue;
    for (const slots of [optimizer.accumulatedFirstMoment, optimizer.accumulatedSecondMoment]) {
      const s = slots[i];
      if (s != null && s.variable.size !== w.size) return "the optimizer's slots belong to other variables";
    }
  }
  return undefined;
}

/** One fused step awaiting the guard's verdict. */
export interface FusedPending {
  /** Loss metrics and the gradient norm (key {@link FUSED_GRAD_NORM}). */
  readonly read: Record<string, number>;
  /** Keep the update (the new weights are already assigned). */
  commit(): void;
  /** Undo the update: the weights and the optimizer state are those before the step. */
  revert(): void;
}

/** A fused kernel's output: new weights (one per updated weight), new moments, metrics to read. */
export interface FusedAdamOutput {
  readonly weights: tf.Tensor[];
  readonly moments: tf.Tensor1D;
  readonly metrics: tf.Tensor1D;
}

/** The flat Adam state of the weights a fused step updates (see the module docs). */
export class FusedAdamState {
  private flat: tf.Tensor1D | undefined;
  private acc1 = 0;
  private acc2 = 0;
  private dirty = false;

  /**
   * @param opt the optimizer (tfjs's Adam)
   * @param weights the updated weights, in the kernel's moment order
   * @param slot each weight's slot index in the optimizer
   */
  constructor(
    private readonly opt: AdamLike,
    private readonly weights: readonly tf.Variable[],
    private readonly slot: readonly number[],
  ) {}

  /** Reads the optimizer's state: moments from its slots (zeros where it has none yet), accBeta1/2 (one read). */
  private async importState(): Promise<void> {
    const acc = tf.stack([this.opt.accBeta1, this.opt.accBeta2]);
    try {
      const d = await acc.data();
      this.acc1 = d[0]!;
      this.acc2 = d[1]!;
    } finally {
      acc.dispose();
    }
    this.flat = tf.tidy(() => {
      const part = (slots: (AdamSlot | undefined)[]) =>
        this.weights.map((w, k) => {
          const s = slots[this.slot[k]!];
          return s == null ? tf.zeros([w.size]) : tf.reshape(s.variable, [-1]);
        });
      return tf.concat([
        ...part(this.opt.accumulatedFirstMoment),
        ...part(this.opt.accumulatedSecondMoment),
      ]) as tf.Tensor1D;
    });
    this.dirty = false;
  }

  /** The moments before the next step (imported from the optimizer when not held) and Adam's settings for it. */
  async current(): Promise<{ moments: tf.Tensor1D; adam: AdamStepSettings }> {
    if (this.flat === undefined) await this.importState();
    const opt = this.opt;
    return {
      moments: this.flat!,
      adam: {
        learningRate: opt.learningRate,
        beta1: opt.beta1,
        beta2: opt.beta2,
        epsilon: opt.epsilon,
        // tfjs: sub(1, accBeta1) in float32.
        biasCorrection1: Math.fround(1 - this.acc1),
        biasCorrection2: Math.fround(1 - this.acc2),
      },
    };
  }

  /**
   * Writes the fused state back to the optimizer (its m/v slots, created as tfjs's Adam names them when missing,
   * and accBeta1/2); a no-op when nothing changed since the last write.
   */
  sync(): void {
    const m = this.flat;
    if (!this.dirty || m === undefined) return;
    const total = this.weights.reduce((s, w) => s + w.size, 0);
    tf.tidy(() => {
      let off = 0;
      this.weights.forEach((w, k) => {
        const i = this.slot[k]!;
        for (const [slots, suffix, base] of [
          [this.opt.accumulatedFirstMoment, 'm', 0],
          [this.opt.accumulatedSecondMoment, 'v', total],
        ] as const) {
          const value = tf.reshape(tf.slice(m, base + off, w.size), w.shape);
          const s = slots[i];
          if (s == null)
            slots[i] = { originalName: `${w.name}/${suffix}`, variable: tf.keep(value.variable(false)) };
          else s.variable.assign(value);
        }
        off += w.size;
      });
      this.opt.accBeta1.assign(tf.scalar(this.acc1));
      this.opt.accBeta2.assign(tf.scalar(this.acc2));
    });
    this.dirty = false;
  }

  /** Writes the state back and forgets it (the next fused step re-imports it from the optimizer). */
  release(): void {
    this.sync();
    this.flat?.dispose();
    this.flat = undefined;
  }

  /** Forgets the state without writing it back (after the optimizer was restored from a checkpoint). */
  invalidate(): void {
    this.flat?.dispose();
    this.flat = undefined;
    this.dirty = false;
  }

  /**
   * Assigns a kernel's new weights at once and reads its metrics (one read); `read` turns them into the step's
   * metric map. The returned {@link FusedPending} keeps the update (new moments, accBeta·β, one more iteration)
   * or undoes it (the old weights back). On a failed read the old weights are back and nothing is left behind.
   */
  async apply(
    out: FusedAdamOutput,
    read: (metrics: Float32Array | Int32Array | Uint8Array) => Record<string, number>,
  ): Promise<FusedPending> {
    const opt = this.opt;
    // Keep the old weights (a reference, no copy) until the guard has seen the metrics.
    const old = this.weights.map((w) => tf.clone(w));
    this.weights.forEach((w, k) => w.assign(out.weights[k] as tf.Tensor));
    tf.dispose(out.weights);
    let d: Float32Array | Int32Array | Uint8Array;
    try {
      d = await out.metrics.data();
    } catch (e) {
      this.weights.forEach((w, k) => w.assign(old[k]!));
      tf.dispose([...old, out.moments]);
      throw e;
    } finally {
      out.metrics.dispose();
    }
    const values = read(d);
    let done = false;
    return {
      read: values,
      commit: () => {
        if (done) return;
        done = true;
        tf.dispose(old);
        this.flat?.dispose();
        this.flat = out.moments;
        // tfjs: accBeta ← accBeta·β in float32.
        this.acc1 = Math.fround(this.acc1 * Math.fround(opt.beta1));
        this.acc2 = Math.fround(this.acc2 * Math.fround(opt.beta2));
        this.dirty = true;
        opt.incrementIterations();
      },
      revert: () => {
        if (done) return;
        done = true;
        this.weights.forEach((w, k) => w.assign(old[k]!));
        tf.dispose([...old, out.moments]);
      },
    };
  }

  dispose(): void {
    this.flat?.dispose();
    this.flat = undefined;
  }
}
