import { EbmError, type EnergyFunction, type Loss, type SamplingKernel } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyFactory, TrainContext, Trainer } from './registry.js';
import { lookup } from './registry.js';
import { type FitSpec, parseFitSpec } from './specs.js';
import { assertObject, invalidJob, type JsonObject, type JsonValue } from './validate.js';

/**
 * # Training jobs from a serialisable `fit` configuration
 *
 * {@link fitTrainer} turns a {@link FitSpec} — dataset, energy, sampler, loss and optimizer by registry name
 * with JSON parameters, steps, batch size — into a {@link Trainer} for the worker's registry. It receives the
 * training loop itself (`fit` from `@ebm/losses`) and the factories from the application, so this package
 * imports neither. Checkpoints are `fit`'s own (`onCheckpoint` → Redis, `resumeFrom` on a retry), so a run
 * killed mid-way continues bit-identically, and the loss history saved with them makes the result of a resumed
 * run equal to an uninterrupted one.
 * @module
 */

/** The options `fitTrainer` passes to `fit` (a subset of `@ebm/losses`' `FitOptions`). */
export interface FitCallOptions<C> {
  readonly loss: Loss;
  readonly optimizer: tf.Optimizer;
  readonly data: tf.Tensor2D;
  readonly batchSize?: number;
  readonly steps: number;
  readonly seed?: number;
  readonly checkpointEvery?: number;
  readonly onCheckpoint?: (checkpoint: C) => Promise<void>;
  readonly onStep?: (metrics: { readonly step: number; readonly loss: number }) => void | Promise<void>;
  readonly onProgress?: (progress: { readonly step: number; readonly total: number }) => void;
  readonly resumeFrom?: C;
  readonly signal?: AbortSignal;
}

/** A dataset factory: rows as a `[n, d]` tensor, or `{ data, dim }` row-major numbers. */
export type DatasetFactory = (
  params: JsonObject,
  seed: number,
) => tf.Tensor2D | { readonly data: ArrayLike<number>; readonly dim: number };

/**
 * A loss factory. `S` is the type of the samplers it receives: {@link SamplingKernel} (what any registry's
 * sampler factory returns) unless the trainer is given its own typed `samplers` (see {@link FitTrainerDeps}).
 */
export type LossFactory<S extends SamplingKernel = SamplingKernel> = (ctx: {
  readonly energy: EnergyFunction;
  readonly sampler: S | undefined;
  readonly params: JsonObject;
}) => Loss;

/** Sampler factories by name (what a registry's `samplers` holds). */
export type SamplerFactories = Readonly<
  Record<string, (energy: EnergyFunction, params: JsonObject) => SamplingKernel>
>;

/** The samplers a set of factories makes (the union of their return types). */
export type SamplerOf<R extends SamplerFactories> = ReturnType<R[keyof R]>;

/**
 * What {@link fitTrainer} needs from the application. The samplers' type is inferred from `samplers`:
 * pass the registry's sampler factories here (e.g. returning `LangevinDynamics | MALA`, full `Sampler`s) when a
 * loss needs more than a `{ init, step }` kernel — `PersistentContrastiveDivergence` wants a `Sampler`.
 */
export interface FitTrainerDeps<C, R extends SamplerFactories = SamplerFactories> {
  /** The training loop (`fit` from `@ebm/losses`). */
  readonly fit: (options: FitCallOptions<C>) => Promise<unknown>;
  readonly datasets: Readonly<Record<string, DatasetFactory>>;
  readonly losses: Readonly<Record<string, LossFactory<SamplerOf<R>>>>;
  /** Energy factories (default: the worker registry's). */
  readonly energies?: Readonly<Record<string, EnergyFactory>>;
  /**
   * Sampler factories (default: the worker registry's; a kind not listed here is looked up there, so list every
   * kind the jobs use when they return more than a `SamplingKernel`).
   */
  readonly samplers?: R;
  /** Scores the trained model (e.g. MMD of samples to held-out data); JSON result. */
  readonly evaluate?: (ctx: {
    readonly energy: EnergyFunction;
    readonly sampler: SamplerOf<R> | undefined;
    readonly data: tf.Tensor2D;
    readonly spec: FitSpec;
    readonly seed: number;
  }) => Promise<JsonObject>;
}

/** What a `fitTrainer` job returns. */
export interface FitJobResult extends JsonObject {
  readonly steps: number;
  /** Loss of the last step (`null` if not finite). */
  readonly finalLoss: number | null;
  /** Mean loss over the last 10% of steps. */
  readonly finalLossMean: number | null;
  /** Loss per step, subsampled to at most 200 points `[step, loss]`. */
  readonly lossCurve: [number, number | null][];
  /** The step the job resumed from (0 when fresh). */
  readonly resumedFrom: number;
  readonly evaluation: JsonObject | null;
}

const OPTIMIZERS: Record<FitSpec['optimizer']['kind'], (lr: number) => tf.Optimizer> = {
  adam: (lr) => tf.train.adam(lr),
  sgd: (lr) => tf.train.sgd(lr),
  momentum: (lr) => tf.train.momentum(lr, 0.9),
  rmsprop: (lr) => tf.train.rmsprop(lr),
  adagrad: (lr) => tf.train.adagrad(lr),
  adamax: (lr) => tf.train.adamax(lr),
};

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

function parseResume(
  v: JsonValue | undefined,
  steps: number,
): { fit: JsonValue; losses: number[] } | undefined {
  if (v === undefined) return undefined;
  const o = assertObject('checkpoint', v, ['fit', 'losses'], ['fit', 'losses']);
  const losses = o.losses;
  if (!Array.isArray(losses) || losses.length > steps) {
    throw invalidJob('checkpoint.losses', `must be an array of at most ${steps} numbers.`);
  }
  return { fit: o.fit as JsonValue, losses: losses.map((x) => (typeof x === 'number' ? x : Number.NaN)) };
}

/** A {@link Trainer} that runs `fit` from a {@link FitSpec} (see the module docs). */
export function fitTrainer<C, R extends SamplerFactories = SamplerFactories>(
  deps: FitTrainerDeps<C, R>,
): Trainer {
  if (typeof deps?.fit !== 'function') {
    throw new EbmError('INVALID_PARAM', 'fitTrainer needs the training loop: { fit }.', {
      argument: 'deps.fit',
      value: typeof deps?.fit,
      fix: "pass fit from '@ebm/losses'.",
    });
  }
  return async (ctx: TrainContext): Promise<FitJobResult> => {
    const spec = parseFitSpec(ctx.config);
    const energyF = (
      deps.energies && Object.hasOwn(deps.energies, spec.energy.kind)
        ? deps.energies[spec.energy.kind]
        : lookup(ctx.registry, 'energies', spec.energy.kind)
    ) as EnergyFactory;
    const samplerF =
      spec.sampler === undefined
        ? undefined
        : ((deps.samplers && Object.hasOwn(deps.samplers, spec.sampler.kind)
            ? deps.samplers[spec.sampler.kind]
            : lookup(ctx.registry, 'samplers', spec.sampler.kind)) as (
            energy: EnergyFunction,
            params: JsonObject,
          ) => SamplerOf<R>);
    const dataF = ownOr(deps.datasets, spec.dataset.kind, 'datasets');
    const lossF = ownOr(deps.losses, spec.loss.kind, 'losses');
    const resume = parseResume(ctx.resumeFrom, spec.steps);
    const raw = dataF(spec.dataset.params ?? {}, ctx.seed);
    const data =
      raw instanceof tf.Tensor
        ? raw
        : tf.tensor2d(Float32Array.from(raw.data), [raw.data.length / raw.dim, raw.dim], 'float32');
    const energy = energyF({ seed: ctx.seed, ...(spec.energy.params ?? {}) });
    let optimizer: tf.Optimizer | undefined;
    let loss: Loss | undefined;
    try {
      const sampler = samplerF?.(energy, spec.sampler?.params ?? {});
      loss = lossF({ energy, sampler, params: spec.loss.params ?? {} });
      optimizer = OPTIMIZERS[spec.optimizer.kind](spec.optimizer.learningRate);
      const losses: number[] = resume ? [...resume.losses] : [];
      let pending: { c: C; step: number } | undefined;
      const save = async (c: C, n: number) => {
        pending = undefined;
        await ctx.checkpoint({ fit: c as JsonValue, losses: losses.slice(0, n).map((x) => finiteOrNull(x)) });
      };
      await deps.fit({
        loss,
        optimizer,
        data,
        steps: spec.steps,
        seed: ctx.seed,
        checkpointEvery: spec.checkpointEvery ?? 25,
        ...(spec.batchSize === undefined ? {} : { batchSize: spec.batchSize }),
        ...(resume === undefined ? {} : { resumeFrom: resume.fit as C }),
        // `fit` may hand over a checkpoint before reporting the step it ends: save it once that step's loss is
        // known, so the history stored with it is complete (and a resumed run's result equals an uninterrupted one).
        onStep: async (m) => {
          losses[m.step] = m.loss;
          if (pending !== undefined && losses.length >= pending.step) await save(pending.c, pending.step);
        },
        onProgress: (p) => ctx.progress(p.step, p.total),
        onCheckpoint: async (c: C) => {
          const step = (c as { step?: unknown }).step;
          const n = typeof step === 'number' ? step : losses.length;
          if (losses.length >= n) await save(c, n);
          else pending = { c, step: n };
        },
        signal: ctx.signal,
      });
      const n = losses.length;
      const tail = losses.slice(Math.max(0, n - Math.max(1, Math.floor(n / 10))));
      const stride = Math.max(1, Math.ceil(n / 200));
      const lossCurve: [number, number | null][] = [];
      for (let i = 0; i < n; i += stride) lossCurve.push([i, finiteOrNull(losses[i])]);
      const evaluation =
        deps.evaluate === undefined
          ? null
          : await deps.evaluate({ energy, sampler, data, spec, seed: ctx.seed });
      return {
        steps: n,
        finalLoss: finiteOrNull(losses[n - 1]),
        finalLossMean: finiteOrNull(tail.reduce((a, b) => a + b, 0) / tail.length),
        lossCurve,
        resumedFrom: (resume?.fit as { step?: number } | undefined)?.step ?? 0,
        evaluation,
      };
    } finally {
      data.dispose();
      optimizer?.dispose();
      (loss as { dispose?: () => void } | undefined)?.dispose?.();
      (energy as { dispose?: () => void }).dispose?.();
    }
  };
}

function ownOr<T>(table: Readonly<Record<string, T>>, kind: string, what: string): T {
  if (!Object.hasOwn(table, kind)) {
    throw new EbmError('INVALID_PARAM', `fitTrainer has no ${what} entry "${kind}".`, {
      argument: what,
      value: kind,
      fix: `use one of: ${Object.keys(table).join(', ')}.`,
    });
  }
  return table[kind]!;
}
