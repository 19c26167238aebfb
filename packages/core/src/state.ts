import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';

/**
 * Sampler states as plain objects: the tensors they hold, disposal, and serialisation to plain data (for
 * checkpoints). Used by the run loop, `BaseSampler` and kernels written without a base class.
 * @module
 */

/** Every tensor held directly by a state object (fields and arrays of tensors). */
export function stateTensors(state: object): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const v of Object.values(state)) {
    if (v instanceof tf.Tensor) out.push(v);
    else if (Array.isArray(v)) for (const w of v) if (w instanceof tf.Tensor) out.push(w);
  }
  return out;
}

/** Disposes the tensors of `old` that `next` does not hold (so pass-through tensors survive). */
export function disposeStateExcept(old: object, next: object): void {
  const keep = new Set(stateTensors(next));
  for (const t of stateTensors(old)) if (!keep.has(t) && !t.isDisposed) t.dispose();
}

/** Plain-data snapshot of a sampler state (tensors as shape + dtype + numbers). */
export interface SerializedState {
  readonly [field: string]:
    | {
        readonly tensor: true;
        readonly shape: number[];
        readonly dtype: tf.DataType;
        readonly data: number[];
      }
    | number
    | string
    | boolean
    | null;
}

/** Snapshot of any state as plain data (async: one `await data()` per tensor, so it works on every backend). */
export async function serializeState(state: object): Promise<SerializedState> {
  const out: Record<string, SerializedState[string]> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v instanceof tf.Tensor) {
      out[k] = { tensor: true, shape: [...v.shape], dtype: v.dtype, data: Array.from(await v.data()) };
    } else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) {
      out[k] = v;
    } else if (v !== undefined) {
      throw new EbmError('NOT_IMPLEMENTED', `State field "${k}" cannot be serialised.`, {
        argument: k,
        value: typeof v,
        fix: 'keep sampler states to tensors, numbers, strings and booleans.',
      });
    }
  }
  return out;
}

/** Rebuilds a state saved by {@link serializeState} (the caller owns its tensors). */
export function deserializeState<S extends object = Record<string, unknown>>(saved: SerializedState): S {
  if (saved === null || typeof saved !== 'object' || !('x' in saved) || !('step' in saved)) {
    throw new EbmError('INVALID_PARAM', 'loadState needs an object from saveState().', {
      argument: 'saved',
      value: saved === null ? null : typeof saved,
      fix: 'pass the value returned by sampler.saveState(state) (or serializeState(state)).',
    });
  }
  // Untrusted input: validate every field first, then build (nothing half-built), and define fields as own
  // properties so a "__proto__" key cannot replace the state's prototype.
  for (const [k, v] of Object.entries(saved)) {
    if (v === null || typeof v !== 'object') {
      if (v !== null && !['number', 'string', 'boolean'].includes(typeof v)) throw badField(k, v);
      continue;
    }
    const shape = (v as { shape?: unknown }).shape;
    const data = (v as { data?: unknown }).data;
    const ok =
      v.tensor === true &&
      Array.isArray(shape) &&
      shape.every((d) => Number.isInteger(d) && d >= 0) &&
      Array.isArray(data) &&
      data.length === shape.reduce((a: number, d: number) => a * d, 1) &&
      data.every((x) => typeof x === 'number') &&
      ['float32', 'int32', 'bool'].includes(v.dtype);
    if (!ok) throw badField(k, '(malformed tensor)');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(saved)) {
    const value = v !== null && typeof v === 'object' ? tf.tensor(v.data, v.shape, v.dtype) : v;
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out as S;
}

function badField(k: string, v: unknown): EbmError {
  return new EbmError('INVALID_PARAM', `Saved state field "${k}" is not a tensor record or a plain value.`, {
    argument: `saved.${k}`,
    value: v,
    fix: 'pass the unmodified value returned by saveState(state).',
  });
}
