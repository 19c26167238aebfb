import {
  EbmError,
  kernelSource,
  MLP_CONTRASTIVE_ADAM_KERNEL,
  type MLPContrastiveAdamOutput,
  type MLPKernelParams,
  type RngKey,
  runKernel,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { ContrastiveDivergence, PersistentContrastiveDivergence } from './contrastive.js';

/**
 * `fit`'s fused training step: CD / PCD / PT-CD on an MLP energy with tfjs's Adam through the
 * `train.mlpContrastiveAdam` kernel of core's registry (registered for webgpu by `@ebm/cuda`): the parameter
 * gradient and the Adam update run in a few device programs instead of tfjs autograd. Internal module.
 *
 * **Adam state.** The fused step keeps Adam's moments in one flat device tensor (m then v of every weight) and
 * `accBeta1/2` on the host, imported from the optimizer at the first fused step (one read) and written back to
 * the optimizer's own slots (`getWeights()`: `<variable>/m`, `<variable>/v`, its `accBeta1/2` and iteration
 * count) before every checkpoint, before an autograd step and when the run ends (also on an error), so
 * checkpoints, `resumeFrom` and later `optimizer.applyGradients` / `minimize` calls see exactly the state tfjs's
 * Adam would have. Between those points (inside `onStep`) the optimizer's slots lag behind: do not step the same
 * optimizer from `onStep`.
 * @module
 */

/** Metric key of the gradient norm in the read map (as `fit`'s). */
export const FUSED_GRAD_NORM = '\u0000gradNorm';

interface AdamSlot {
  originalName: string;
  variable: tf.Variable;
}

/** The fields of tfjs's `AdamOptimizer` the fused step reads and writes. */
interface AdamLike {
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

function isAdam(o: tf.Optimizer): o is tf.Optimizer & AdamLike {
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

/** The CD-family loss whose `computeParts` is the library's own (a user subclass that overrides it is not). */
function contrastiveLoss(loss: unknown): ContrastiveDivergence | undefined {
  if (!(loss instanceof ContrastiveDivergence)) return undefined;
  const own = (loss as unknown as { computeParts: unknown }).computeParts;
  const known = [ContrastiveDivergence.prototype, PersistentContrastiveDivergence.prototype].map(
    (p) => (p as unknown as { computeParts: unknown }).computeParts,
  );
  return known.includes(own) ? loss : undefined;
}

/** The MLP hint of an energy (live float32 variables), if it has one. */
function mlpParams(energy: unknown): MLPKernelParams | undefined {
  const hint = (energy as { kernelHint?: { kind?: unknown; params?: unknown } } | null)?.kernelHint;
  if (hint?.kind !== 'mlp') return undefined;
  const p = hint.params as MLPKernelParams | undefined;
  if (!Array.isArray(p?.weights)) return undefined;
  return p;
}

/** What the fused step needs besides the batch. */
export interface FusedStepSetup {
  readonly loss: unknown;
  readonly optimizer: tf.Optimizer;
  readonly variables: readonly tf.Variable[];
  readonly clipNorm?: number | undefined;
  readonly clipValue?: number | undefined;
}

/**
 * Why `fit` cannot take the fused step for this run (a sentence), or `undefined` when it can: a CD-family loss
 * (CD, PCD, PT-CD; not a subclass with its own `computeParts`), an energy with an `'mlp'` kernel hint whose
 * weights are exactly the trained variables, tfjs's Adam, no gradient clipping, and a backend implementation of
 * `train.mlpContrastiveAdam` for the active backend.
 */
export function fusedStepUnavailable(setup: FusedStepSetup): string | undefined {
  if (kernelSource(MLP_CONTRASTIVE_ADAM_KERNEL) !== 'backend')
    return `no ${MLP_CONTRASTIVE_ADAM_KERNEL} kernel for backend ${tf.getBackend()}`;
  const loss = contrastiveLoss(setup.loss);
  if (loss === undefined) return 'the loss is not CD / PCD / PT-CD';
  if (loss.variables.length > 0) return 'the loss has variables of its own';
  if (setup.clipNorm !== undefined || setup.clipValue !== undefined) return 'gradient clipping is on';
  if (!isAdam(setup.optimizer)) return 'the optimizer is not tf.train.adam';
  const p = mlpParams(loss.energy);
  if (p === undefined) return "the energy has no 'mlp' kernel hint";
  const ws = p.weights;
  const vars = setup.variables;
  if (ws.length !== vars.length) return 'the trained variables are not the MLP weights';
  for (const w of ws) {
    if (!(w instanceof tf.Variable) || !vars.includes(w) || w.dtype !== 'float32' || w.isDisposed)
      return 'the trained variables are not the MLP weights';
  }
  const opt = setup.optimizer as unknown as AdamLike;
  for (let k = 0; k < ws.length; k++) {
    const i = vars.indexOf(ws[k] as tf.Variable);
    for (const slots of [opt.accumulatedFirstMoment, opt.accumulatedSecondMoment]) {
      const s = slots[i];
      if (s != null && s.variable.size !== (ws[k] as tf.Tensor).size)
        return "the optimizer's slots belong to other variables";
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

/** The fused CD + Adam step of a run (see the module docs). */
export class FusedContrastiveStep {
  private moments: tf.Tensor1D | undefined;
  private acc1 = 0;
  private acc2 = 0;
  private dirty = false;
  private readonly loss: ContrastiveDivergence;
  private readonly opt: AdamLike;
  private readonly weights: tf.Variable[];
  /** Optimizer slot of each weight (its index in fit's variable list = tfjs Adam's slot order). */
  private readonly slot: number[];

  constructor(setup: FusedStepSetup) {
    const why = fusedStepUnavailable(setup);
    if (why !== undefined) {
      throw new EbmError('NOT_IMPLEMENTED', `The fused training step cannot run: ${why}.`, {
        argument: 'loss',
        fix: 'use the autograd step (fit picks it automatically).',
      });
    }
    this.loss = contrastiveLoss(setup.loss)!;
    this.opt = setup.optimizer as unknown as AdamLike;
    this.weights = [...mlpParams(this.loss.energy)!.weights] as tf.Variable[];
    this.slot = this.weights.map((w) => setup.variables.indexOf(w));
  }

  /** Whether the step can still run (the hint, its variables and the backend kernel are still there). */
  available(): boolean {
    const p = mlpParams(this.loss.energy);
    return (
      p !== undefined &&
      p.weights.length === this.weights.length &&
      p.weights.every((w, k) => w === this.weights[k] && !(w as tf.Tensor).isDisposed) &&
      kernelSource(MLP_CONTRASTIVE_ADAM_KERNEL) === 'backend'
    );
  }

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
    this.moments = tf.tidy(() => {
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

  /**
   * Writes the fused state back to the optimizer (its m/v slots, created as tfjs's Adam names them when missing,
   * and accBeta1/2); a no-op when nothing changed since the last write.
   */
  sync(): void {
    const m = this.moments;
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
    this.moments?.dispose();
    this.moments = undefined;
  }

  /** Forgets the state without writing it back (after the optimizer was restored from a checkpoint). */
  invalidate(): void {
    this.moments?.dispose();
    this.moments = undefined;
    this.dirty = false;
  }

  /**
   * One step on `batch` with key `key` (the loss's negatives exactly as `loss.compute(batch, { key })` draws
   * them): the kernel's new weights are assigned at once; the returned {@link FusedPending} keeps or undoes them.
   */
  async step(batch: tf.Tensor2D, key: RngKey): Promise<FusedPending> {
    if (this.moments === undefined) await this.importState();
    const opt = this.opt;
    const { positives, negatives, stats } = this.loss.contrastiveSamples(batch, key);
    let out: MLPContrastiveAdamOutput;
    try {
      out = runKernel(MLP_CONTRASTIVE_ADAM_KERNEL, {
        params: mlpParams(this.loss.energy)!,
        positives,
        negatives,
        energyL2: this.loss.energyL2,
        adam: {
          learningRate: opt.learningRate,
          beta1: opt.beta1,
          beta2: opt.beta2,
          epsilon: opt.epsilon,
          // tfjs: sub(1, accBeta1) in float32.
          biasCorrection1: Math.fround(1 - this.acc1),
          biasCorrection2: Math.fround(1 - this.acc2),
        },
        moments: this.moments!,
      });
    } finally {
      tf.dispose([positives, negatives]);
    }
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
    const read: Record<string, number> = {
      loss: d[0]!,
      energyPos: d[1]!,
      energyNeg: d[2]!,
      ...stats,
      [FUSED_GRAD_NORM]: d[3]!,
    };
    let done = false;
    return {
      read,
      commit: () => {
        if (done) return;
        done = true;
        tf.dispose(old);
        this.moments?.dispose();
        this.moments = out.moments;
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
    this.moments?.dispose();
    this.moments = undefined;
  }
}
