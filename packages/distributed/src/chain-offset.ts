import {
  bitsToNormal,
  bitsToUniform,
  EbmError,
  foldIn,
  getKernelImpl,
  type KernelImpl,
  type MetropolisAcceptInputs,
  type MetropolisAcceptOutput,
  normalTensor,
  philox4x32,
  type RandomInputs,
  type RngKey,
  registerKernelImpl,
  toKey,
  uniformTensor,
  unregisterKernelImpl,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * # A chain range run alone gives the numbers of the full run
 *
 * Core's Philox layout (`@ebm/core` rng): a random tensor of shape `[B, ...rest]` from key k holds word
 * `i = r·R + j` (R = ∏rest) of k's stream in row r, so chain r's numbers do not depend on B — but a run of
 * chains `[a, b)` alone would draw rows `0..b−a`, i.e. the numbers of chains `0..b−a`. Two things make a range
 * exact:
 * 1. **x0 rows**: the loop draws x0 ~ N(0, I) as rows of `randomNormal(foldIn(runKey, 2⁵³−1), [n, dim])`;
 *    {@link x0Rows} computes rows `[a, b)` directly (Philox is counter-based: block ⌊w/4⌋ for word w).
 * 2. **step draws with a row offset**: {@link withChainOffset} runs a function with the `randomNormal`,
 *    `randomUniform` and `metropolisAccept` kernels of the active backend replaced by versions that read the
 *    stream from word `a·R` for draws whose leading axis is the batch (`shape[0] === nChains`); other draws
 *    (shared across chains) pass through unchanged. The previous implementations are restored afterwards.
 *
 * Every sampler whose random draws go through these kernels with chains on the leading axis (Langevin, MALA,
 * HMC, NUTS, gradient descent) then gives, for chains `[a, b)`, exactly the rows `[a, b)` of the full run on
 * the host backends (cpu, wasm); on GPU backends the draws come from the host path (bit-identical stream) and
 * the arithmetic is equal up to float32 rounding. Whole-chain kernels (`wholeChain`) know no offset and are
 * bypassed by the batch runner.
 *
 * What core should grow so this needs no registry override: a row offset in `RandomInputs` (`{ key, shape,
 * rowOffset }`) honoured by every `randomNormal` / `randomUniform` implementation (GPU ones included),
 * `metropolisAccept` drawing through `randomUniform`, and a `chainOffset` option of `sampleChain` passed to
 * steps (and to `wholeChain` kernels) — then a chain range is one option of the loop.
 * @module
 */

const TWO_POW_32 = 4294967296;

/** `count` words of `key`'s stream from word `start`, mapped by `map`, as float32. */
function streamWords(key: RngKey, start: number, count: number, map: (u: number) => number): Float32Array {
  const out = new Float32Array(count);
  const w = new Uint32Array(4);
  let i = 0;
  let word = start;
  while (i < count) {
    const b = Math.floor(word / 4);
    philox4x32([b >>> 0, Math.floor(b / TWO_POW_32) >>> 0, 0, 0], key, w);
    for (let lane = word % 4; lane < 4 && i < count; lane++) {
      out[i++] = map(w[lane]!);
      word++;
    }
  }
  return out;
}

/**
 * Rows `[chainStart, chainEnd)` of the x0 that `sampleChain({ nSamples, dim, seed })` draws for the whole run:
 * `randomNormal(foldIn(runKey, 2⁵³ − 1), [n, dim])`, for any n ≥ chainEnd (host path).
 */
export function x0Rows(
  seed: number | RngKey,
  chainStart: number,
  chainEnd: number,
  dim: number,
): tf.Tensor2D {
  const key = foldIn(toKey(seed), Number.MAX_SAFE_INTEGER);
  const data = streamWords(key, chainStart * dim, (chainEnd - chainStart) * dim, bitsToNormal);
  return tf.tensor2d(data, [chainEnd - chainStart, dim], 'float32');
}

function rowSize(shape: readonly number[]): number {
  let r = 1;
  for (let i = 1; i < shape.length; i++) r *= shape[i]!;
  return r;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

const NAMES = ['randomNormal', 'randomUniform', 'metropolisAccept'] as const;

let active = false;

/**
 * Runs `fn` with the random kernels of the active backend shifted by `chainOffset` rows for draws of
 * `nChains` rows (see the module docs). Not re-entrant: one chain range per process at a time (a worker runs
 * one job at a time).
 */
export async function withChainOffset<T>(
  chainOffset: number,
  nChains: number,
  fn: () => Promise<T>,
): Promise<T> {
  if (active) {
    throw new EbmError('STATE_ERROR', 'withChainOffset is already active in this process.', {
      argument: 'chainOffset',
      value: chainOffset,
      fix: 'run one chain batch at a time per process (worker concurrency 1).',
    });
  }
  await tf.ready();
  const backend = tf.getBackend();
  const prev = new Map<string, KernelImpl | undefined>();
  for (const n of NAMES) prev.set(n, getKernelImpl(n, backend) as KernelImpl | undefined);
  const isBatch = (shape: readonly number[]) => shape.length >= 1 && shape[0] === nChains;
  const shifted =
    (map: (u: number) => number, plain: (key: RngKey, shape: readonly number[]) => tf.Tensor) =>
    ({ key, shape }: RandomInputs): tf.Tensor => {
      if (!isBatch(shape)) return plain(key, shape);
      const r = rowSize(shape);
      return tf.tensor(streamWords(key, chainOffset * r, size(shape), map), [...shape], 'float32');
    };
  const normal = shifted(bitsToNormal, (k, s) => {
    const p = prev.get('randomNormal');
    return p ? (p({ key: k, shape: s }) as tf.Tensor) : normalTensor(k, s);
  });
  const uniform = shifted(bitsToUniform, (k, s) => {
    const p = prev.get('randomUniform');
    return p ? (p({ key: k, shape: s }) as tf.Tensor) : uniformTensor(k, s);
  });
  const accept = (inputs: MetropolisAcceptInputs): MetropolisAcceptOutput =>
    metropolisAcceptShifted(inputs, (key, n) => uniform({ key, shape: [n] }));
  active = true;
  registerKernelImpl('randomNormal', backend, normal, { override: true });
  registerKernelImpl('randomUniform', backend, uniform, { override: true });
  registerKernelImpl('metropolisAccept', backend, accept, { override: true });
  try {
    return await fn();
  } finally {
    for (const n of NAMES) {
      const p = prev.get(n);
      if (p) registerKernelImpl(n, backend, p as never, { override: true });
      else unregisterKernelImpl(n, backend);
    }
    active = false;
  }
}

/** Core's composite `metropolisAccept` with the per-chain uniforms drawn by `draw` (the shifted stream). */
function metropolisAcceptShifted(
  { logAcceptRatio, current, proposal, key }: MetropolisAcceptInputs,
  draw: (key: RngKey, n: number) => tf.Tensor,
): MetropolisAcceptOutput {
  if (current.length !== proposal.length) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      'metropolisAccept needs as many proposal tensors as current tensors.',
      {
        argument: 'proposal',
        value: [current.length, proposal.length],
        fix: 'pass matching lists, e.g. current [x, e] and proposal [xNew, eNew].',
      },
    );
  }
  const n = logAcceptRatio.shape[0];
  return tf.tidy(() => {
    const u = draw(key, n);
    const finite = tf.logicalNot(tf.logicalOr(tf.isNaN(logAcceptRatio), tf.isInf(logAcceptRatio)));
    const safeRatio = tf.where(finite, logAcceptRatio, tf.fill([n], -Infinity));
    const acceptMask = tf.less(tf.log(u), safeRatio);
    const selected = current.map((c, i) => {
      const prop = proposal[i]!;
      const mask =
        c.rank === 1 ? acceptMask : tf.reshape(acceptMask, [n, ...new Array<number>(c.rank - 1).fill(1)]);
      return tf.where(tf.broadcastTo(mask, c.shape), prop, c);
    });
    return { selected, accepted: tf.cast(acceptMask, 'float32') as tf.Tensor1D };
  });
}
