import { EbmError, type EnergyFunction, type RngKey, RngStream, toKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * `withoutTape` (run with tfjs's gradient tape off: outputs are constants for an enclosing gradient) and
 * `stopGradient` (a detached copy) live in core's one seam for tfjs internals; re-exported here for the losses
 * and for users of `@ebm/losses` 0.1.
 */
export { stopGradient, withoutTape } from '@ebm/core/internal';

/** Seed or key option shared by the losses. */
export type SeedLike = number | bigint | RngKey;

/**
 * The trainable variables of an energy (or any object), found by duck typing: a `trainableVariables`
 * array or getter, a `variables` array, or a `getVariables()` / `getWeights()` method.
 */
export function variablesOf(obj: unknown): tf.Variable[] {
  if (obj === null || typeof obj !== 'object') return [];
  const o = obj as Record<string, unknown>;
  const pick = (v: unknown): tf.Variable[] | undefined =>
    Array.isArray(v) && v.every((t) => t instanceof tf.Variable) ? (v as tf.Variable[]) : undefined;
  for (const name of ['trainableVariables', 'variables']) {
    const v = o[name];
    const r = pick(typeof v === 'function' ? (v as () => unknown).call(obj) : v);
    if (r !== undefined) return r.filter((x) => x.trainable);
  }
  for (const name of ['getVariables', 'getWeights', 'getTrainableVariables']) {
    const f = o[name];
    if (typeof f === 'function') {
      const r = pick((f as () => unknown).call(obj));
      if (r !== undefined) return r.filter((x) => x.trainable);
    }
  }
  return [];
}

/** Validates that `energy` looks like an {@link EnergyFunction}. */
export function assertEnergy(energy: unknown, owner: string): EnergyFunction {
  const e = energy as EnergyFunction | null;
  if (
    e === null ||
    typeof e !== 'object' ||
    typeof e.energy !== 'function' ||
    typeof e.gradient !== 'function'
  ) {
    throw new EbmError('INVALID_PARAM', `${owner} needs an EnergyFunction.`, {
      argument: 'energy',
      value: e === null ? null : typeof e,
      fix: 'pass an energy such as an MLP energy from @ebm/models, or a BaseEnergy subclass.',
    });
  }
  return e;
}

/** A stream of keys for calls that receive no `context.key`. */
export function makeStream(seed: SeedLike | undefined): RngStream {
  return new RngStream(toKey(seed ?? 0, 'seed'));
}
