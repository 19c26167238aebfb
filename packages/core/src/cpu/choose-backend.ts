import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.js';
import type { EnergyFunction } from '../energy.js';
import { EbmError } from '../errors.js';
import { chainKernelName, runKernel } from '../kernels.js';
import { foldIn, normalArray, rngKey } from '../rng.js';
import { hasHostEnergy } from './host-energies.js';
import { MLP_KIND } from './mlp.js';

/**
 * Picks the fastest tfjs backend for a workload, with the reason (`pnpm demo` prints it).
 * @module
 */

/** What {@link recommendBackend} returns. */
export interface BackendChoice {
  /** The tfjs backend name to use. */
  readonly backend: string;
  /** One sentence: why this backend. */
  readonly reason: string;
  /** Measured milliseconds per evaluation, per backend (when measured). */
  readonly measuredMs?: Readonly<Record<string, number>>;
}

/** Options of {@link recommendBackend}. */
export interface RecommendBackendOptions {
  /** The energy the run will use (its gradient is what a sampler evaluates every step). */
  readonly energy?: EnergyFunction;
  /** Chains (rows) per evaluation to measure with (default 256). */
  readonly nChains?: number;
  /** Dimension when the energy has none (default 32). */
  readonly dim?: number;
  /** Backends to consider (default: those of `cpu`, `wasm` that are registered; import a backend first). */
  readonly candidates?: readonly string[];
  /** Timed evaluations per backend after one warm-up (default 5). */
  readonly repetitions?: number;
  /**
   * `'sampling'` (default): the run samples from a fixed energy, so a fused chain kernel counts. `'training'`:
   * the run also differentiates the energy through tfjs ops every step (a loss), so the backends are measured
   * on the energy's composite gradient even when a fused chain exists.
   */
  readonly workload?: 'sampling' | 'training';
}

const KNOWN = new Set(['energy', 'nChains', 'dim', 'candidates', 'repetitions', 'workload']);

function registered(): string[] {
  return Object.keys(tf.engine().registryFactory);
}

/** A small MLP-like step (matMul, SiLU, autograd): the proxy workload when no energy is given. */
function proxyWorkload(n: number, d: number): () => void {
  const w1 = tf.keep(tf.tensor2d(normalArray(rngKey(1), [d, 128], 0, 1 / Math.sqrt(d)), [d, 128]));
  const w2 = tf.keep(tf.tensor2d(normalArray(rngKey(2), [128, 1], 0, 1 / Math.sqrt(128)), [128, 1]));
  const x = tf.keep(tf.tensor2d(normalArray(rngKey(3), [n, d]), [n, d]));
  const g = tf.grad((v: tf.Tensor) => {
    const h = tf.matMul(v as tf.Tensor2D, w1);
    return tf.sum(tf.matMul(tf.mul(h, tf.sigmoid(h)) as tf.Tensor2D, w2));
  });
  const run = () => tf.tidy(() => g(x));
  (run as { dispose?: () => void }).dispose = () => tf.dispose([w1, w2, x]);
  return run;
}

/**
 * Recommends the fastest backend for a workload, and says why:
 * - an energy whose `kernelHint.kind` has a fused CPU kernel (`chain.<kind>`, every analytic energy of
 *   `@ebm/models`): `cpu` — samplers then run whole chains in one typed-array loop, which beats composing
 *   tfjs ops on any host backend (measured by `pnpm bench` in @ebm/samplers);
 * - otherwise each candidate backend is **measured** (`repetitions` gradient evaluations of the energy on
 *   `[nChains, dim]` after a warm-up — for an `mlp` hint, one step of the fused chain on cpu; a small MLP when
 *   no energy is given) and the fastest wins.
 * With `workload: 'training'` (the energy is also differentiated through tfjs ops, e.g. by a loss) the fused
 * shortcut is skipped and the gradient is measured on every candidate.
 * The active backend is restored afterwards; {@link chooseBackend} also switches to the choice.
 * @example
 * ```ts
 * // import the wasm backend package first to make 'wasm' a candidate
 * const { backend, reason } = await chooseBackend({ energy });
 * console.log(`backend ${backend}: ${reason}`);
 * ```
 */
export async function recommendBackend(options: RecommendBackendOptions = {}): Promise<BackendChoice> {
  if (options === null || typeof options !== 'object') {
    throw new EbmError('INVALID_PARAM', 'recommendBackend options must be an object.', {
      argument: 'options',
      value: options,
      fix: 'pass e.g. { energy }.',
    });
  }
  for (const k of Object.keys(options)) {
    if (!KNOWN.has(k)) {
      throw new EbmError('INVALID_PARAM', `Unknown option "${k}" of recommendBackend.`, {
        argument: k,
        fix: `use only: ${[...KNOWN].join(', ')}.`,
      });
    }
  }
  const reg = registered();
  const candidates = (options.candidates ?? ['cpu', 'wasm']).filter((b) => reg.includes(b));
  if (candidates.length === 0) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'None of the candidate backends is registered.', {
      argument: 'candidates',
      value: options.candidates,
      fix: `import the backend packages first; registered: ${reg.join(', ')}.`,
    });
  }
  const energy = options.energy;
  const kind = energy?.kernelHint?.kind;
  const workload = options.workload ?? 'sampling';
  if (workload !== 'sampling' && workload !== 'training') {
    throw new EbmError('INVALID_PARAM', "workload must be 'sampling' or 'training'.", {
      argument: 'workload',
      value: workload,
      fix: "pass workload: 'sampling' (default) or 'training'.",
    });
  }
  const fusedCpu =
    workload === 'sampling' && typeof kind === 'string' && hasHostEnergy(kind) && candidates.includes('cpu');
  if (fusedCpu && kind !== MLP_KIND) {
    return {
      backend: 'cpu',
      reason:
        `${energy?.name ?? 'the energy'} (kind "${kind}") has a fused CPU kernel chain.${kind}: samplers run whole ` +
        'chains in one typed-array loop (and on every core with workers), faster than composed tfjs ops on cpu or wasm.',
    };
  }
  if (candidates.length === 1) {
    return { backend: candidates[0]!, reason: `the only registered candidate backend (${candidates[0]}).` };
  }
  const n = options.nChains ?? 256;
  const reps = options.repetitions ?? 5;
  const before = tf.getBackend();
  const measured: Record<string, number> = {};
  try {
    for (const b of candidates) {
      await useBackend(b);
      const d = energy?.dim ?? options.dim ?? 32;
      let run: () => unknown;
      let cleanup = () => {};
      if (energy !== undefined && fusedCpu && b === 'cpu') {
        // The cpu backend runs this energy through its fused chain kernel: time one Langevin step of it.
        const x = tf.tensor2d(normalArray(rngKey(3), [n, d]), [n, d]);
        const hint = energy.kernelHint!;
        run = () =>
          runKernel(chainKernelName(hint.kind), {
            method: 'langevin',
            x0: x,
            nSteps: 1,
            key: foldIn(rngKey(0), 0),
            params: hint.params,
            settings: { stepSize: 1e-3, noiseScale: 1 },
          });
        cleanup = () => x.dispose();
      } else if (energy !== undefined) {
        const x = tf.tensor2d(normalArray(rngKey(3), [n, d]), [n, d]);
        run = () => tf.tidy(() => energy.gradient(x, { checkFinite: false }));
        cleanup = () => x.dispose();
      } else {
        const p = proxyWorkload(n, d);
        run = p;
        cleanup = (p as { dispose?: () => void }).dispose ?? cleanup;
      }
      try {
        const settle = async (t: unknown) => {
          if (t instanceof tf.Tensor) {
            await t.data();
            t.dispose();
          }
        };
        await settle(run());
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) await settle(run());
        measured[b] = (performance.now() - t0) / reps;
      } finally {
        cleanup();
      }
    }
  } finally {
    if (tf.getBackend() !== before && reg.includes(before)) await useBackend(before);
  }
  const ranked = Object.entries(measured).sort((a, b) => a[1] - b[1]);
  const [best, bestMs] = ranked[0]!;
  const [next, nextMs] = ranked[1]!;
  const shape = `[${n}, ${energy?.dim ?? options.dim ?? 32}]`;
  const what =
    energy === undefined
      ? `an MLP gradient on ${shape}`
      : fusedCpu
        ? `${energy.name} on ${shape} (cpu: one step of its fused chain; ${next === 'cpu' ? best : next}: its gradient)`
        : `${energy.name}'s gradient on ${shape}`;
  return {
    backend: best,
    reason: `measured ${what}: ${best} ${bestMs.toFixed(2)} ms vs ${next} ${nextMs.toFixed(2)} ms (${(nextMs / bestMs).toFixed(1)}× faster).`,
    measuredMs: measured,
  };
}

/** {@link recommendBackend}, then switches to the recommended backend. */
export async function chooseBackend(options: RecommendBackendOptions = {}): Promise<BackendChoice> {
  const choice = await recommendBackend(options);
  await useBackend(choice.backend);
  return choice;
}
