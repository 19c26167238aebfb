import { EbmError, type SampleResult, stateTensors } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';

/** Returns `r.samples` and disposes every other tensor of a sampler result. */
export function disposeAllButSamples(r: SampleResult): tf.Tensor2D {
  const keep = r.samples;
  const others: tf.Tensor[] = [];
  for (const t of Object.values(r.trajectory ?? {})) others.push(t);
  for (const t of Object.values(r.diagnostics ?? {})) others.push(t);
  if (r.finalState !== undefined) others.push(...stateTensors(r.finalState));
  for (const t of others) if (t !== keep && !t.isDisposed) t.dispose();
  return keep;
}

/** Checks that a sampler looks like core's {@link import('@ebm/core').Sampler}. */
export function assertSampler<S>(sampler: S, owner: string): S {
  const s = sampler as { sampleSync?: unknown } | null;
  if (s === null || typeof s !== 'object' || typeof s.sampleSync !== 'function') {
    throw new EbmError('INVALID_PARAM', `${owner} needs a sampler (an object with sampleSync).`, {
      argument: 'sampler',
      value: s === null ? null : typeof s,
      fix: 'pass a sampler such as new LangevinDynamics(energy, { stepSize: 0.01 }) from @ebm/samplers.',
    });
  }
  return sampler;
}
