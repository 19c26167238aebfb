import * as tf from '@tensorflow/tfjs-core';

/** A loss's metrics as returned by `compute`: scalar tensors (numbers from losses written for 0.1). */
export type MetricValues = Readonly<Record<string, tf.Scalar | tf.Tensor | number>>;

/**
 * Reads a loss's metrics (and any extra scalars) to host numbers with **one** `await`: the scalars are packed
 * into one float32 vector on the device, read with `data()`, and the packed copy released. Numbers pass
 * through unchanged. Works on every backend (WebGPU included).
 *
 * `extra` scalars are read in the same transfer and returned under their names (`fit` adds the gradient norm
 * this way). With `dispose: true` the metric tensors (and `extra`) are released after the read.
 *
 * @example
 * ```ts
 * const out = loss.compute(batch);
 * const m = await readMetrics(out.metrics, { dispose: true }); // { loss, energyPos, energyNeg }
 * ```
 */
export async function readMetrics(
  metrics: MetricValues,
  options: { extra?: Readonly<Record<string, tf.Tensor>>; dispose?: boolean } = {},
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const tensors: tf.Tensor[] = [];
  const index = new Map<tf.Tensor, number>();
  const entries = [...Object.entries(metrics), ...Object.entries(options.extra ?? {})];
  const slot: [string, number][] = [];
  for (const [k, v] of entries) {
    if (typeof v === 'number') {
      out[k] = v;
      continue;
    }
    let i = index.get(v);
    if (i === undefined) {
      i = tensors.length;
      index.set(v, i);
      tensors.push(v);
    }
    slot.push([k, i]);
  }
  if (tensors.length > 0) {
    const packed = tf.tidy(() =>
      tf.concat(tensors.map((t) => tf.reshape(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), [1]))),
    );
    let data: Float32Array;
    try {
      data = (await packed.data()) as Float32Array;
    } finally {
      packed.dispose();
      if (options.dispose === true) tf.dispose(tensors);
    }
    for (const [k, i] of slot) out[k] = data[i]!;
  }
  return out;
}
